"""A tracked field, simulated: participants moving along a course, for the live map's demo,
its browser test and the tracking benchmark. Deterministic for a seed; no clock, no I/O.

The course is a loop of ``points`` around a centre (a rough oval, like a trail around a lake);
each participant has its own pace and starting distance along it, with a little GPS noise.
"""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import dataclass

EARTH_RADIUS_M = 6_371_008.8

LatLon = tuple[float, float]


def oval(center: LatLon, radius_m: float, points: int = 48) -> list[LatLon]:
    """A closed loop (first point repeated at the end) around ``center``."""
    lat0, lon0 = center
    out = []
    for i in range(points + 1):
        angle = 2 * math.pi * (i % points) / points
        north = radius_m * math.sin(angle)
        east = 1.6 * radius_m * math.cos(angle)
        out.append(
            (
                lat0 + math.degrees(north / EARTH_RADIUS_M),
                lon0 + math.degrees(east / (EARTH_RADIUS_M * math.cos(math.radians(lat0)))),
            )
        )
    return out


def _metres(a: LatLon, b: LatLon) -> float:
    north = math.radians(b[0] - a[0]) * EARTH_RADIUS_M
    east = math.radians(b[1] - a[1]) * EARTH_RADIUS_M * math.cos(math.radians(a[0]))
    return math.hypot(north, east)


@dataclass(frozen=True, slots=True)
class Mover:
    name: str
    speed_mps: float
    start_m: float  # how far along the course it is at time 0
    battery: float


@dataclass(frozen=True, slots=True)
class Position:
    lat: float
    lon: float
    speed: float  # m/s
    heading: float  # degrees
    battery: float


class SimulatedField:
    def __init__(
        self, course: list[LatLon], movers: list[Mover], noise_m: float = 0.0, seed: int = 1
    ) -> None:
        self.course = course
        self.movers = movers
        self.noise_m = noise_m
        self._random = random.Random(seed)
        self._cumulative = [0.0]
        for a, b in itertools.pairwise(course):
            self._cumulative.append(self._cumulative[-1] + _metres(a, b))
        self.length_m = self._cumulative[-1]

    @classmethod
    def make(
        cls,
        count: int,
        center: LatLon = (52.2297, 21.0122),
        radius_m: float = 400.0,
        seed: int = 1,
        noise_m: float = 2.0,
    ) -> SimulatedField:
        rng = random.Random(seed)
        movers = [
            Mover(
                name=f"runner{i + 1:02d}",
                speed_mps=rng.uniform(2.5, 5.0),
                start_m=rng.uniform(0, 200),
                battery=rng.uniform(40, 100),
            )
            for i in range(count)
        ]
        return cls(oval(center, radius_m), movers, noise_m=noise_m, seed=seed)

    def along(self, distance_m: float) -> tuple[LatLon, float]:
        """The point ``distance_m`` along the loop, and the heading there."""
        d = distance_m % self.length_m
        for i in range(1, len(self._cumulative)):
            if self._cumulative[i] >= d:
                a, b = self.course[i - 1], self.course[i]
                span = self._cumulative[i] - self._cumulative[i - 1] or 1.0
                f = (d - self._cumulative[i - 1]) / span
                north = b[0] - a[0]
                east = (b[1] - a[1]) * math.cos(math.radians(a[0]))
                heading = math.degrees(math.atan2(east, north)) % 360
                return (a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1])), heading
        return self.course[-1], 0.0

    def position(self, mover: Mover, t_s: float) -> Position:
        (lat, lon), heading = self.along(mover.start_m + mover.speed_mps * t_s)
        if self.noise_m:
            jitter = self.noise_m / EARTH_RADIUS_M
            lat += math.degrees(self._random.gauss(0, jitter))
            lon += math.degrees(self._random.gauss(0, jitter)) / math.cos(math.radians(lat))
        battery = max(1.0, mover.battery - t_s / 600)
        return Position(lat, lon, mover.speed_mps, heading, battery)
