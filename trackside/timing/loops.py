"""Timing loops: what each loop of an event is, and what a car's loop crossings mean.

An event configures its loops (start/finish, pit in, pit out, pit start/finish, sectors) by
the decoder that reads them; transponders map to entries. ``PitLaneTracker`` reduces crossings,
in order, into per-car state the timing board shows (``CarPosition`` fields of
``../shared/reference/live-timing-backend.md``):

- ``ip``  in pit: the car is between a pit-lane loop (pit in, pit start/finish) and pit out;
  any track loop crossed afterwards also puts it back on track (a missed pit-out detection).
- ``enp`` entered pit: the car crossed the pit-in loop during its current lap.
- ``exp`` exited pit: the car crossed the pit-out loop during its current lap.
- ``psf`` pit start/finish: the current lap started on the pit-lane timing line, i.e. the
  previous lap finished in the pit lane.
- ``lip`` lap included pit: the last completed lap had time in the pit lane.
- ``ln``  last loop: the name of the last loop the car crossed.

The "current lap" runs from one start/finish crossing (track or pit lane) to the next. Where an
RMonitor feed also runs, it stays the truth for laps and order: the service then calls
``complete_lap`` on each of its ``$J`` passings when no start/finish loop is configured, and
takes only pit state, sectors and ``ln`` from here.

Times are integer milliseconds of the decoder clock. Nothing here reads a clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum

from trackside.feeds.p3_records import P3Passing

# A transponder read twice by one loop within this window is one crossing (the capture's
# double detection is 2.8 s apart); no car laps, or crosses the same loop again, this fast.
DOUBLE_DETECTION_MS = 5_000
# How an unmapped transponder is named, as IMSA feeds do (``"Tx339393"``).
UNMAPPED_PREFIX = "Tx"


class LoopKind(StrEnum):
    """What crossing a loop means."""

    START_FINISH = "start_finish"
    PIT_IN = "pit_in"
    PIT_OUT = "pit_out"
    PIT_START_FINISH = "pit_start_finish"
    SECTOR = "sector"


LAP_LINES = frozenset({LoopKind.START_FINISH, LoopKind.PIT_START_FINISH})
TRACK_LOOPS = frozenset({LoopKind.START_FINISH, LoopKind.SECTOR})


@dataclass(slots=True, frozen=True)
class Loop:
    """One configured loop. ``loop_id`` None: the decoder reads one loop (every P3 decoder)."""

    name: str
    kind: LoopKind
    decoder_id: int
    loop_id: int | None = None


class LoopLayout:
    """An event's loops, looked up by the decoder (and loop id) that reported a crossing."""

    __slots__ = ("_by_id", "loops")

    def __init__(self, loops: Iterable[Loop]) -> None:
        self.loops = tuple(loops)
        self._by_id: dict[tuple[int, int | None], Loop] = {}
        names: set[str] = set()
        for loop in self.loops:
            key = (loop.decoder_id, loop.loop_id)
            if key in self._by_id:
                raise ValueError(f"two loops on decoder {loop.decoder_id} loop {loop.loop_id}")
            if loop.name in names:
                raise ValueError(f"two loops named {loop.name!r}")
            self._by_id[key] = loop
            names.add(loop.name)

    def loop_for(self, decoder_id: int | None, loop_id: int | None = None) -> Loop | None:
        """The exact (decoder, loop) match, else the decoder configured as a single loop."""
        if decoder_id is None:
            return None
        return self._by_id.get((decoder_id, loop_id)) or self._by_id.get((decoder_id, None))


@dataclass(slots=True, frozen=True)
class LoopCrossing:
    """A transponder crossing a loop, from any decoder protocol, in decoder milliseconds."""

    transponder: str
    time_ms: int
    decoder_id: int | None
    loop_id: int | None = None
    passing_number: int | None = None


def crossing_from_p3(passing: P3Passing) -> LoopCrossing:
    """A P3 passing as a crossing: the decoder is the loop, RTC microseconds floored to ms."""
    return LoopCrossing(
        transponder=passing.transponder_key,
        time_ms=passing.rtc_time_ms,
        decoder_id=passing.decoder_id,
        passing_number=passing.passing_number,
    )


def entry_for(transponders: Mapping[str, str], transponder: str) -> str:
    """The entry a transponder belongs to; ``Tx<transponder>`` while it is not mapped."""
    return transponders.get(transponder) or f"{UNMAPPED_PREFIX}{transponder}"


@dataclass(slots=True, frozen=True)
class SectorTime:
    """Time between two consecutive track loops crossed on the same lap."""

    from_loop: str
    to_loop: str
    time_ms: int


@dataclass(slots=True, frozen=True)
class LoopLap:
    """A lap timed by the start/finish loops: line to line, on track or through the pits."""

    number: int
    lap_time_ms: int
    end_ms: int
    included_pit: bool
    through_pit: bool  # finished on the pit start/finish loop
    sectors: tuple[SectorTime, ...] = ()


@dataclass(slots=True, frozen=True)
class PitStop:
    """One visit to the pit lane; a loop time is None when that loop missed the car."""

    number: int
    lap: int  # the lap (by passings) on which the car entered the pit lane
    in_ms: int | None
    out_ms: int | None = None

    @property
    def lane_ms(self) -> int | None:
        """Time in the pit lane, pit-in loop to pit-out loop; None unless both saw the car."""
        if self.in_ms is None or self.out_ms is None:
            return None
        return self.out_ms - self.in_ms


@dataclass(slots=True)
class CarLoops:
    """One entry's state from loop crossings."""

    entry: str
    transponder: str = ""
    in_pit: bool = False  # ip
    entered_pit: bool = False  # enp
    exited_pit: bool = False  # exp
    pit_start_finish: bool = False  # psf
    lap_included_pit: bool = False  # lip
    last_loop: str = ""  # ln
    laps: list[LoopLap] = field(default_factory=list)
    pit_stops: list[PitStop] = field(default_factory=list)
    sectors: list[SectorTime] = field(default_factory=list)  # of the current lap
    crossings: int = 0
    duplicates: int = 0
    last_crossing_ms: int | None = None
    lap_start_ms: int | None = None  # last start/finish crossing
    pit_this_lap: bool = False
    last_track: tuple[str, int] | None = None  # last track loop, while the sector chain holds
    last_by_loop: dict[str, int] = field(default_factory=dict)

    @property
    def pit_stop_count(self) -> int:
        return len(self.pit_stops)

    @property
    def last_pit_lane_ms(self) -> int | None:
        """Pit-lane time of the latest completed stop whose both loops saw the car."""
        for stop in reversed(self.pit_stops):
            if stop.lane_ms is not None:
                return stop.lane_ms
        return None

    @property
    def total_pit_lane_ms(self) -> int:
        return sum(stop.lane_ms or 0 for stop in self.pit_stops)

    @property
    def last_lap(self) -> LoopLap | None:
        return self.laps[-1] if self.laps else None


def pit_fields(car: CarLoops) -> dict[str, bool | str]:
    """The ``CarPosition`` payload fields this state owns, by their wire names."""
    return {
        "enp": car.entered_pit,
        "psf": car.pit_start_finish,
        "exp": car.exited_pit,
        "ip": car.in_pit,
        "lip": car.lap_included_pit,
        "ln": car.last_loop,
    }


class PitLaneTracker:
    """Reduces loop crossings, in order, into per-entry pit state, laps and sectors.

    Ignored, and counted: crossings on loops the layout does not know, passings a decoder
    re-sends (same decoder and passing number), crossings older than the car's latest, and
    double detections (same car, same loop, within ``double_detection_ms``; the first is kept).
    """

    def __init__(
        self,
        layout: LoopLayout,
        transponders: Mapping[str, str] | None = None,
        double_detection_ms: int = DOUBLE_DETECTION_MS,
    ) -> None:
        self.layout = layout
        self.transponders: Mapping[str, str] = {} if transponders is None else transponders
        self.double_detection_ms = double_detection_ms
        self.cars: dict[str, CarLoops] = {}
        self.unknown_loop = 0
        self.resent = 0
        self.out_of_order = 0
        self.duplicates = 0
        self._seen: set[tuple[int, int]] = set()

    def apply(self, crossing: LoopCrossing | P3Passing) -> CarLoops | None:
        """Apply one crossing; returns the car it changed, or None when it was ignored."""
        if isinstance(crossing, P3Passing):
            crossing = crossing_from_p3(crossing)
        loop = self.layout.loop_for(crossing.decoder_id, crossing.loop_id)
        if loop is None:
            self.unknown_loop += 1
            return None
        if crossing.decoder_id is not None and crossing.passing_number is not None:
            key = (crossing.decoder_id, crossing.passing_number)
            if key in self._seen:
                self.resent += 1
                return None
            self._seen.add(key)
        car = self.car(entry_for(self.transponders, crossing.transponder))
        time = crossing.time_ms
        if car.last_crossing_ms is not None and time < car.last_crossing_ms:
            self.out_of_order += 1
            return None
        previous = car.last_by_loop.get(loop.name)
        if previous is not None and time - previous < self.double_detection_ms:
            car.duplicates += 1
            self.duplicates += 1
            return None
        car.last_by_loop[loop.name] = time
        car.crossings += 1
        car.transponder = crossing.transponder
        car.last_crossing_ms = time
        car.last_loop = loop.name
        _CROSS[loop.kind](car, loop, time)
        return car

    def car(self, entry: str) -> CarLoops:
        """The state of an entry, created empty on first use."""
        car = self.cars.get(entry)
        if car is None:
            car = self.cars[entry] = CarLoops(entry)
        return car

    def complete_lap(self, entry: str) -> CarLoops:
        """A lap boundary from another source (RMonitor ``$J``) where no start/finish loop is
        configured: settles ``lip`` for the lap just completed and starts a new lap."""
        car = self.car(entry)
        car.lap_included_pit = car.pit_this_lap
        _new_lap(car, through_pit=False)
        return car


def _new_lap(car: CarLoops, through_pit: bool) -> None:
    car.entered_pit = car.exited_pit = False
    car.pit_start_finish = through_pit
    car.pit_this_lap = car.in_pit
    car.sectors = []


def _line(car: CarLoops, time: int, through_pit: bool) -> None:
    """A start/finish crossing: completes the lap running since the last one, if any (the
    first crossing only starts lap timing), and starts the next."""
    if car.lap_start_ms is not None:
        car.laps.append(
            LoopLap(
                number=len(car.laps) + 1,
                lap_time_ms=time - car.lap_start_ms,
                end_ms=time,
                included_pit=car.pit_this_lap,
                through_pit=through_pit,
                sectors=tuple(car.sectors),
            )
        )
        car.lap_included_pit = car.pit_this_lap
    _new_lap(car, through_pit)
    car.lap_start_ms = time


def _enter_pit(car: CarLoops, in_ms: int | None) -> None:
    car.in_pit = True
    car.pit_this_lap = True
    car.pit_stops.append(PitStop(len(car.pit_stops) + 1, len(car.laps) + 1, in_ms))


def _leave_pit(car: CarLoops, out_ms: int | None) -> None:
    car.in_pit = False
    if car.pit_stops:
        car.pit_stops[-1] = replace(car.pit_stops[-1], out_ms=out_ms)


def _track(car: CarLoops, loop: Loop, time: int) -> None:
    if car.in_pit:  # back on track without a pit-out detection: the stop's exit time is unknown
        _leave_pit(car, None)
    if car.last_track is not None:
        name, since = car.last_track
        car.sectors.append(SectorTime(name, loop.name, time - since))
    if loop.kind is LoopKind.START_FINISH:
        _line(car, time, through_pit=False)
    car.last_track = (loop.name, time)


def _pit_in(car: CarLoops, loop: Loop, time: int) -> None:
    if not car.in_pit:
        _enter_pit(car, time)
    car.entered_pit = True
    car.last_track = None


def _pit_start_finish(car: CarLoops, loop: Loop, time: int) -> None:
    if not car.in_pit:  # the pit-in loop missed the car
        _enter_pit(car, None)
    _line(car, time, through_pit=True)
    car.last_track = None


def _pit_out(car: CarLoops, loop: Loop, time: int) -> None:
    if not car.in_pit:  # both pit-lane loops before this one missed the car
        _enter_pit(car, None)
    _leave_pit(car, time)
    car.exited_pit = True
    car.last_track = None


_CROSS = {
    LoopKind.START_FINISH: _track,
    LoopKind.SECTOR: _track,
    LoopKind.PIT_IN: _pit_in,
    LoopKind.PIT_START_FINISH: _pit_start_finish,
    LoopKind.PIT_OUT: _pit_out,
}
