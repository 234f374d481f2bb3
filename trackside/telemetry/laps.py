"""Telemetry cut by laps: a car's points between two of its crossings, and its best lap beside.

Lap windows come from the event log (``events.live_reads.lap_windows``); the points from the
telemetry store, tagged with the car's number. Times are answered as milliseconds since the
lap started, so two laps overlay aligned by lap time.
"""

from __future__ import annotations

from dataclasses import dataclass

from trackside.errors import NotFound
from trackside.events.live_reads import LapWindow
from trackside.telemetry import service
from trackside.telemetry.service import Telemetry
from trackside.telemetry.store import Selection, Series


@dataclass(frozen=True, slots=True)
class LapPoints:
    window: LapWindow
    every_ns: int | None  # None: raw points
    series: list[Series]  # times are ns since the lap started


def best(windows: list[LapWindow]) -> LapWindow:
    return min(windows, key=lambda w: (w.lap_time_ms, w.number))


def pick(windows: list[LapWindow], number: int) -> LapWindow:
    for window in windows:
        if window.number == number:
            return window
    done = ", ".join(str(w.number) for w in windows) or "none"
    raise NotFound(f"lap {number} is not a completed lap of this car (completed: {done})")


async def points(
    telemetry: Telemetry,
    window: LapWindow,
    *,
    bucket: str,
    measurement: str,
    fields: tuple[str, ...],
    tags: tuple[tuple[str, str], ...],
) -> LapPoints:
    start_ns = window.start_ms * 1_000_000
    selection = Selection(bucket, measurement, fields, tags, start_ns, window.end_ms * 1_000_000)
    answer = await service.query(telemetry, selection, None)
    for one in answer.series:
        one.times = [t - start_ns for t in one.times]
    return LapPoints(window, answer.every_ns, answer.series)
