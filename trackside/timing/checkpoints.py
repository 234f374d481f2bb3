"""GPS timing: where a track crosses a checkpoint, and the splits and positions that follow.

A checkpoint is a line between two points (crossed in either direction) or a circle (crossed
when the track enters it). The crossing time is interpolated along the segment between the two
fixes around it, so a fix every few seconds still times a crossing to well under a second at
steady speed. Distances use a local flat projection around the checkpoint: exact enough for
checkpoints of up to a few kilometres. Nothing here reads a clock or does I/O.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from trackside.feeds.checkpoint_records import CheckpointCrossing

EARTH_RADIUS_M = 6_371_008.8

LatLon = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Line:
    name: str
    a: LatLon
    b: LatLon


@dataclass(frozen=True, slots=True)
class Circle:
    name: str
    center: LatLon
    radius_m: float


CheckpointShape = Line | Circle


@dataclass(frozen=True, slots=True)
class TrackPoint:
    time_ms: int
    lat: float
    lon: float


def _project(origin: LatLon, point: LatLon) -> tuple[float, float]:
    """Metres east and north of ``origin``."""
    scale = math.pi / 180 * EARTH_RADIUS_M
    return (
        (point[1] - origin[1]) * scale * math.cos(math.radians(origin[0])),
        (point[0] - origin[0]) * scale,
    )


def _line_fraction(line: Line, p: TrackPoint, q: TrackPoint) -> float | None:
    """Where along p→q the segment crosses the line (0…1), or None."""
    a = (0.0, 0.0)
    b = _project(line.a, line.b)
    s = _project(line.a, (p.lat, p.lon))
    e = _project(line.a, (q.lat, q.lon))
    dx, dy = e[0] - s[0], e[1] - s[1]
    lx, ly = b[0] - a[0], b[1] - a[1]
    denominator = dx * ly - dy * lx
    if denominator == 0:
        return None  # parallel (or a standing still)
    t = ((a[0] - s[0]) * ly - (a[1] - s[1]) * lx) / denominator
    u = ((a[0] - s[0]) * dy - (a[1] - s[1]) * dx) / denominator
    # A track point exactly on the line counts once: as the end of a segment, not its start.
    if 0 < t <= 1 and 0 <= u <= 1:
        return t
    return None


def _circle_fraction(circle: Circle, p: TrackPoint, q: TrackPoint) -> float | None:
    """Where along p→q the track enters the circle from outside (passing through counts too:
    fixes may be sparser than the circle is wide), or None."""
    s = _project(circle.center, (p.lat, p.lon))
    e = _project(circle.center, (q.lat, q.lon))
    r = circle.radius_m
    if math.hypot(*s) <= r:
        return None  # already inside
    dx, dy = e[0] - s[0], e[1] - s[1]
    a = dx * dx + dy * dy
    if a == 0:
        return None
    b = 2 * (s[0] * dx + s[1] * dy)
    c = s[0] * s[0] + s[1] * s[1] - r * r
    discriminant = b * b - 4 * a * c
    if discriminant < 0:
        return None  # passes by
    t = (-b - math.sqrt(discriminant)) / (2 * a)
    return t if 0 < t <= 1 else None


def crossing_time(shape: CheckpointShape, p: TrackPoint, q: TrackPoint) -> int | None:
    """The interpolated time (ms) the track p→q crosses the checkpoint, or None."""
    if q.time_ms < p.time_ms:
        return None
    fraction = (
        _line_fraction(shape, p, q) if isinstance(shape, Line) else _circle_fraction(shape, p, q)
    )
    if fraction is None:
        return None
    return round(p.time_ms + fraction * (q.time_ms - p.time_ms))


def crossings(
    participant: int, name: str, shapes: Sequence[CheckpointShape], track: Sequence[TrackPoint]
) -> list[CheckpointCrossing]:
    """Every crossing of a whole track (points in time order), in time order."""
    found = []
    for p, q in pairwise(track):
        for shape in shapes:
            at = crossing_time(shape, p, q)
            if at is not None:
                found.append(CheckpointCrossing(participant, name, shape.name, at))
    return sorted(found, key=lambda c: c.time_ms)


@dataclass(slots=True)
class Split:
    checkpoint: str
    time_ms: int
    elapsed_ms: int  # since the participant's start


@dataclass(slots=True)
class Standing:
    participant: int
    name: str
    position: int = 0
    splits: list[Split] = field(default_factory=list)

    @property
    def reached(self) -> int:
        return len(self.splits)

    @property
    def elapsed_ms(self) -> int | None:
        return self.splits[-1].elapsed_ms if self.splits else None


def _splits(course: Sequence[str], crossed: list[CheckpointCrossing]) -> list[Split]:
    """The course in order: the start (its last crossing before the next checkpoint), then each
    checkpoint's first crossing after the one before, up to the finish."""
    splits: list[Split] = []
    start = 0
    for crossing in sorted(crossed, key=lambda c: c.time_ms):
        if len(splits) == len(course):
            break
        if crossing.checkpoint == course[0] and len(splits) <= 1:
            start = crossing.time_ms
            splits = [Split(course[0], start, 0)]
        elif splits and crossing.checkpoint == course[len(splits)]:
            splits.append(Split(crossing.checkpoint, crossing.time_ms, crossing.time_ms - start))
    return splits


def standings(course: Sequence[str], records: Iterable[CheckpointCrossing]) -> list[Standing]:
    """Positions: most checkpoints reached first, then the shortest time to the last of them."""
    by_participant: dict[int, list[CheckpointCrossing]] = {}
    names: dict[int, str] = {}
    for record in records:
        by_participant.setdefault(record.participant, []).append(record)
        names[record.participant] = record.name
    table = (
        [
            Standing(participant, names[participant], splits=_splits(course, crossed))
            for participant, crossed in by_participant.items()
        ]
        if course
        else []
    )
    table.sort(key=lambda s: (-s.reached, s.elapsed_ms or 0, s.participant))
    for position, standing in enumerate(table, start=1):
        standing.position = position
    return table
