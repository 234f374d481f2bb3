"""Simulated car telemetry for the demo: what a logger on each car would send at 20 Hz.

A car's place on the lap comes from its crossings in the simulated timing feed (``$J``), so the
channels line up with the laps timing shows: speed dips into five corners, the driver brakes
into them and opens the throttle out of them, gear and rpm follow speed, and lat/lon go round
an oval near Road Atlanta.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable

from trackside.feeds.records import Competitor, Passing
from trackside.feeds.rmonitor import parse_line

CENTER = (34.1460, -83.8150)
TOP_KMH = 265.0
# (where on the lap, the fraction of top speed at the apex, the corner's width)
CORNERS = ((0.11, 0.42, 0.035), (0.29, 0.58, 0.05), (0.46, 0.33, 0.03), (0.64, 0.52, 0.04))
CORNERS += ((0.86, 0.40, 0.035),)
GEAR_KMH = 46.0


def crossings(timed_lines: Iterable[tuple[int, str]]) -> dict[str, list[int]]:
    """Each car number's line crossings, in feed milliseconds, from ``$A`` and ``$J`` lines."""
    numbers: dict[str, str] = {}
    out: dict[str, list[int]] = {}
    for at_ms, line in timed_lines:
        if not line.startswith(("$A", "$J")):
            continue
        record = parse_line(line)
        if isinstance(record, Competitor):
            numbers[record.registration] = record.number or record.registration
        elif isinstance(record, Passing):
            number = numbers.get(record.registration, record.registration)
            out.setdefault(number, []).append(at_ms)
    return out


def _speed(progress: float) -> float:
    factor = 1.0
    for at, apex, width in CORNERS:
        d = abs(progress - at)
        d = min(d, 1 - d)
        factor = min(factor, 1 - (1 - apex) * math.exp(-((d / width) ** 2)))
    return TOP_KMH * factor


def channels(progress: float, jitter: float = 0.0) -> dict[str, float | int]:
    """The logger's channels at a place on the lap (0 = the line, 1 = the line again)."""
    progress %= 1.0
    speed = _speed(progress) * (1 + jitter)
    ahead = _speed((progress + 0.004) % 1.0) * (1 + jitter)
    if ahead < speed - 0.3:
        brake = min(1.0, (speed - ahead) / 6)
        throttle = 0.0
    else:
        brake = 0.0
        throttle = min(1.0, 0.35 + 0.65 * speed / TOP_KMH + max(0.0, ahead - speed) / 3)
    gear = max(1, min(6, 1 + int(speed // GEAR_KMH)))
    rpm = int(4200 + (speed - (gear - 1) * GEAR_KMH) / GEAR_KMH * 7300)
    angle = 2 * math.pi * progress
    return {
        "speed": round(speed, 2),
        "throttle": round(throttle, 3),
        "brake": round(brake, 3),
        "rpm": rpm,
        "gear": gear,
        "lat": round(CENTER[0] + 0.0042 * math.sin(angle), 6),
        "lon": round(CENTER[1] + 0.0065 * math.cos(angle), 6),
    }


def progress_at(times: list[int], at_ms: int) -> float | None:
    """Where on its lap a car is at a feed time; None before it reached the line at all."""
    if not times or at_ms < times[0]:
        return None
    i = bisect_right(times, at_ms) - 1
    if i + 1 < len(times):
        return (at_ms - times[i]) / (times[i + 1] - times[i])
    last_lap = times[i] - times[i - 1] if i > 0 else 100_000
    return min(0.999, (at_ms - times[i]) / last_lap)


def sample(laps: dict[str, list[int]], at_ms: int) -> list[tuple[str, dict[str, float | int]]]:
    """Every car on track at a feed time, with its channels."""
    out = []
    for index, (number, times) in enumerate(sorted(laps.items())):
        progress = progress_at(times, at_ms)
        if progress is not None:
            jitter = 0.01 * math.sin(at_ms / 700 + index)
            out.append((number, channels(progress, jitter)))
    return out
