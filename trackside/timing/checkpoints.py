"""GPS timing: where a track crosses a checkpoint, and the splits and positions that follow.

A checkpoint is a line between two points (crossed in either direction) or a circle (crossed
when the track enters it). The crossing time is interpolated along the segment between the two
fixes around it, so a fix every few seconds still times a crossing to well under a second at
steady speed. Distances use a local flat projection around the checkpoint: exact enough for
checkpoints of up to a few kilometres. Nothing here reads a clock or does I/O.

Splits and positions (``standings``) serve the tracking area's ``/tracking/splits``;
``CheckpointTiming`` scores the same standings, crossing by crossing, into a session of the
event's engine (the scorer hands it the log's ``checkpoint`` records), so the live board,
results and ``trackside replay`` show a session timed by checkpoints like one timed by loops:
each participant a car, each checkpoint after the start a lap whose total is the time since
the participant's start, the splits as the car's sectors and the last checkpoint its last loop.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from trackside.feeds.checkpoint_records import CheckpointCrossing
from trackside.timing.engine import RaceEngine
from trackside.timing.laps import Lap
from trackside.timing.loops import CarLoops, SectorTime
from trackside.timing.session import RACE, Session

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
    return rank(table)


def rank(table: list[Standing]) -> list[Standing]:
    """Most checkpoints reached first, then the shortest time to the last of them (in place)."""
    table.sort(key=lambda s: (-s.reached, s.elapsed_ms or 0, s.participant))
    for position, standing in enumerate(table, start=1):
        standing.position = position
    return table


CHECKPOINT_SESSION = "Checkpoints"
FLAG_RUNNING = "green"


class CheckpointTiming:
    """The event's checkpoint session: one session of the engine, appended beside the feed's
    (never its current one), opened by the first crossing.

    The course is the checkpoints' places the records carry; a checkpoint without one comes
    after those known, in the order first crossed.
    """

    __slots__ = ("_course", "_crossed", "_names", "_standings", "engine", "index", "session")

    def __init__(self, engine: RaceEngine) -> None:
        self.engine = engine
        self.session: Session | None = None
        self.index: int | None = None
        self._course: dict[str, tuple[int, int]] = {}  # name: (place, first seen)
        self._crossed: dict[int, list[CheckpointCrossing]] = {}
        self._names: dict[int, str] = {}
        self._standings: dict[int, Standing] = {}

    @property
    def course(self) -> list[str]:
        return sorted(self._course, key=self._course.__getitem__)

    def standings(self) -> list[Standing]:
        return rank(list(self._standings.values()))

    def loops(self) -> dict[str, CarLoops]:
        """The splits as each car's sectors (start to checkpoint), the last checkpoint its
        last loop: what the board shows of a car's loops."""
        found = {}
        for participant, standing in self._standings.items():
            splits = standing.splits
            found[str(participant)] = CarLoops(
                entry=str(participant),
                last_loop=splits[-1].checkpoint if splits else "",
                sectors=[
                    SectorTime(splits[0].checkpoint, s.checkpoint, s.elapsed_ms) for s in splits[1:]
                ],
                last_crossing_ms=splits[-1].time_ms if splits else None,
            )
        return found

    def apply(self, record: CheckpointCrossing) -> int:
        """Score one crossing; the index of the checkpoint session."""
        session = self._session()
        session.records += 1
        known = self._course.get(record.checkpoint)
        place = record.position if record.position is not None else None
        changed = False
        if known is None:
            seen = len(self._course)
            self._course[record.checkpoint] = (place if place is not None else 1 << 30, seen)
            changed = True
        elif place is not None and known[0] != place:
            self._course[record.checkpoint] = (place, known[1])
            changed = True
        self._crossed.setdefault(record.participant, []).append(record)
        self._names[record.participant] = record.name
        course = self.course
        rescored = list(self._crossed) if changed else [record.participant]
        for participant in rescored:
            self._standings[participant] = Standing(
                participant,
                self._names[participant],
                splits=_splits(course, self._crossed[participant]),
            )
        self._score(session, rescored)
        assert self.index is not None
        return self.index

    def _session(self) -> Session:
        if self.session is None:
            session = Session(run=None, type=RACE, type_from_name=False)
            session.rename(CHECKPOINT_SESSION)
            session._change_flag(FLAG_RUNNING, None)
            self.engine.sessions.append(session)
            self.session = session
            self.index = len(self.engine.sessions) - 1
        return self.session

    def _score(self, session: Session, rescored: list[int]) -> None:
        """The rescored participants' laps from their splits, then everyone's position."""
        for participant in rescored:
            standing = self._standings[participant]
            registration = str(participant)
            car = session.cars.get(registration)
            if car is None:
                car = session.car(registration)
                car.number = registration
            car.first_name = standing.name
            car.started = True
            car.laps = []
            previous = 0
            for number, split in enumerate(standing.splits[1:], start=1):
                car.laps.append(
                    Lap(number, split.elapsed_ms - previous, split.elapsed_ms, FLAG_RUNNING)
                )
                previous = split.elapsed_ms
            car.recompute_best()
            car.race_laps = len(car.laps)
            car.total_time_ms = standing.elapsed_ms if car.laps else None
            car.last_crossing_ms = car.total_time_ms
            session.race_clock_ms = max(session.race_clock_ms, car.total_time_ms or 0)
        for standing in self.standings():
            session.cars[str(standing.participant)].race_position = standing.position
