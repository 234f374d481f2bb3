"""Scores an event from every kind of record its log holds, in log order. Pure.

- RMonitor records go to the ``RaceEngine``: the truth for sessions, order and laps.
- Loop crossings (P3 passings) go to a ``PitLaneTracker`` per session and add what RMonitor
  lacks: pit in/out, in pit, pit stops and lane time, last loop, sector times. A crossing
  belongs to the session being scored, else to the last one (cars pit after the flag).
  Before any RMonitor record, crossings of a start/finish loop open a passings session whose
  laps and order come from the loops (``timing.passing_laps``); the first RMonitor record ends
  it. With loops but no start/finish loop, each RMonitor ``$J`` marks the lap boundary.
- Judges' records (``feeds.judge_records``) score manual competitions, each its own session
  beside the feed's (``timing.manual``).
- GPS checkpoint crossings (``feeds.checkpoint_records``) score the event's checkpoint session,
  beside the feed's too (``timing.checkpoints``): splits, and positions by checkpoints passed,
  then the time at the last; the splits show as the cars' sectors.
- Race-control log records add warnings, penalty laps and black flags. An entry belongs to the
  session being scored (else the last one) when its key first appears in the log, and its later
  revisions follow it there; entries logged before any session belong to the first. So what
  race control logs during a race counts in that race, and a log uploaded after it, too.

Transponders map to car numbers by the event's entry list and by the feed's ``$A`` records,
the feed winning (it is what the timing system uses now).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import get_args

from trackside.feeds.checkpoint_records import CheckpointCrossing
from trackside.feeds.controllog_records import (
    ControlLogBadRow,
    ControlLogEntry,
    ControlLogRecord,
    ControlLogRemoval,
)
from trackside.feeds.judge_records import (
    CompetitionStart,
    CompetitionStop,
    JudgeRecord,
    TeamTime,
    TimeVoid,
)
from trackside.feeds.p3_records import P3Passing
from trackside.feeds.records import Competitor, Passing, Record
from trackside.timing.checkpoints import CheckpointTiming
from trackside.timing.engine import RaceEngine
from trackside.timing.extras import SessionExtras
from trackside.timing.laps import SAME_CROSSING_MS
from trackside.timing.loops import (
    LAP_LINES,
    LoopCrossing,
    LoopLayout,
    PitLaneTracker,
    crossing_from_p3,
)
from trackside.timing.manual import ManualTiming
from trackside.timing.passing_laps import PASSINGS_SESSION, EntryInfo, PassingLaps
from trackside.timing.penalties import CarPenalties, car_penalties
from trackside.timing.session import Session

CROSSINGS = (P3Passing, LoopCrossing)
CONTROL_LOG = (ControlLogEntry, ControlLogBadRow, ControlLogRemoval)
JUDGE = (CompetitionStart, CompetitionStop, TeamTime, TimeVoid)
# The feed's record classes (``Record``): ``apply`` hands these to the engine.
FEED_TYPES = frozenset(get_args(Record))
ScoredRecord = (
    Record | P3Passing | LoopCrossing | ControlLogRecord | JudgeRecord | CheckpointCrossing
)


@dataclass(slots=True)
class LoopCounts:
    """What became of the crossings applied, for diagnostics."""

    crossings: int = 0
    resent: int = 0  # a decoder's passing seen before (same decoder and passing number)
    no_session: int = 0  # the RMonitor feed runs but has opened no session yet
    unknown_loop: int = 0
    duplicates: int = 0  # double detections
    out_of_order: int = 0


class Scorer:
    """The engine, per-session loop trackers and the race-control log of one event."""

    def __init__(
        self,
        engine: RaceEngine | None = None,
        layout: LoopLayout | None = None,
        entries: Iterable[EntryInfo] = (),
    ) -> None:
        self.engine = engine if engine is not None else RaceEngine()
        self.layout = layout if layout is not None else LoopLayout(())
        self.entries = {entry.number: entry for entry in entries}
        self.transponders: dict[str, str] = {
            e.transponder: e.number for e in self.entries.values() if e.transponder
        }
        self._lap_lines = any(loop.kind in LAP_LINES for loop in self.layout.loops)
        # With loops but no start/finish loop, each RMonitor $J marks the lap boundary.
        self._laps_from_feed = bool(self.layout.loops) and not self._lap_lines
        self._trackers: dict[int, PitLaneTracker] = {}
        self._passing_laps: dict[int, PassingLaps] = {}
        self._seen: set[tuple[int, int]] = set()
        self._last_lap_total: dict[tuple[int, str], int] = {}
        self._revisions: dict[int, int] = {}
        self._control: dict[int, list[ControlLogRecord]] = {}
        self._control_pending: list[ControlLogRecord] = []
        self._control_session: dict[str, int | None] = {}
        self._penalties: dict[int, dict[str, CarPenalties]] = {}
        self.loop_counts = LoopCounts()
        self.control_records = 0
        self.manual = ManualTiming(self.engine)
        self.checkpoints = CheckpointTiming(self.engine)

    # --- what the snapshot builder and results read -----------------------------------------

    @property
    def sessions(self) -> list[Session]:
        return self.engine.sessions

    def revision(self, index: int) -> int:
        """Changes whenever loops or the log change what session ``index`` shows."""
        return self._revisions.get(index, 0)

    def extras(self, index: int) -> SessionExtras:
        if index == self.checkpoints.index:
            return SessionExtras(loops=self.checkpoints.loops(), penalties=self.penalties(index))
        tracker = self._trackers.get(index)
        return SessionExtras(
            loops=tracker.cars if tracker is not None else {}, penalties=self.penalties(index)
        )

    def penalties(self, index: int) -> dict[str, CarPenalties]:
        """The race-control tally of the entries that belong to session ``index``."""
        tally = self._penalties.get(index)
        if tally is None:
            tally = self._penalties[index] = car_penalties(self._control.get(index, ()))
        return tally

    def control_session(self, key: str) -> int | None:
        """The session a log entry's key belongs to; None while no session exists."""
        return self._control_session.get(key)

    # --- records ------------------------------------------------------------------------------

    def apply_all(self, records: Iterable[ScoredRecord]) -> None:
        for record in records:
            self.apply(record)

    def apply(self, record: ScoredRecord) -> None:
        """Apply one record of any kind; bad ones are counted where they are read."""
        if type(record) in FEED_TYPES:  # nearly every record: no isinstance chain to get here
            self.apply_rmonitor(record)  # type: ignore[arg-type]
        elif isinstance(record, CROSSINGS):
            self._crossing(record)
        elif isinstance(record, CONTROL_LOG):
            self._control_record(record)
        elif isinstance(record, JUDGE):
            self._bump(self.manual.apply(record))
        elif isinstance(record, CheckpointCrossing):
            self._bump(self.checkpoints.apply(record))
        else:
            self.apply_rmonitor(record)

    def apply_rmonitor(self, record: Record) -> None:
        """An RMonitor record (``FeedError`` too): what ``apply`` does with one, without asking
        what it is (a replay's hot path)."""
        self.engine.apply(record)
        if self._control_pending:
            self._attach_pending()
        kind = type(record)
        if kind is Competitor and record.transponder:  # type: ignore[union-attr]
            self._map_transponder(record)  # type: ignore[arg-type]
        elif kind is Passing and self._laps_from_feed:
            self._feed_lap(record)  # type: ignore[arg-type]

    def _map_transponder(self, record: Competitor) -> None:
        current = self.engine.current
        car = current.cars.get(record.registration) if current is not None else None
        number = car.number if car is not None else record.number or record.registration
        if record.transponder:
            self.transponders[record.transponder] = number

    def _feed_lap(self, record: Passing) -> None:
        """An RMonitor lap boundary, where no start/finish loop gives one (once a crossing)."""
        current = self.engine.current
        if current is None or record.registration not in current.cars:
            return
        index = self._last_index()
        assert index is not None
        total = record.total_time_ms
        key = (index, record.registration)
        last = self._last_lap_total.get(key)
        if total is not None:
            if last is not None and abs(total - last) < SAME_CROSSING_MS:
                return  # the same crossing re-sent with a corrected time
            self._last_lap_total[key] = total
        self._tracker(index).complete_lap(current.cars[record.registration].number)
        self._bump(index)

    def _crossing(self, record: P3Passing | LoopCrossing) -> None:
        crossing = crossing_from_p3(record) if isinstance(record, P3Passing) else record
        counts = self.loop_counts
        counts.crossings += 1
        if crossing.decoder_id is not None and crossing.passing_number is not None:
            key = (crossing.decoder_id, crossing.passing_number)
            if key in self._seen:
                counts.resent += 1
                return
            self._seen.add(key)
        loop = self.layout.loop_for(crossing.decoder_id, crossing.loop_id)
        if loop is None:
            counts.unknown_loop += 1
            return
        index = self._session_for_crossings()
        if index is None:
            counts.no_session += 1
            return
        tracker = self._tracker(index)
        duplicates, out_of_order = tracker.duplicates, tracker.out_of_order
        car = tracker.apply(crossing)
        counts.duplicates += tracker.duplicates - duplicates
        counts.out_of_order += tracker.out_of_order - out_of_order
        if car is None:
            return
        self._bump(index)
        laps = self._passing_laps.get(index)
        if laps is not None and loop.kind in LAP_LINES:
            laps.line_crossed(car, crossing.time_ms)

    def _session_for_crossings(self) -> int | None:
        engine = self.engine
        if engine.rmonitor_seen or not self._lap_lines:
            return self._last_index()
        current = engine.current
        if current is not None and current.from_passings:
            return self._last_index()
        session = engine.open_passings_session(PASSINGS_SESSION)
        index = len(engine.sessions) - 1
        self._passing_laps[index] = PassingLaps(session, self.entries)
        if self._control_pending:
            self._attach_pending()
        return index

    def _last_index(self) -> int | None:
        """The last session the feed or loops opened: the checkpoint session, appended beside
        them whenever a first crossing comes, is never theirs."""
        sessions = self.engine.sessions
        for index in range(len(sessions) - 1, -1, -1):
            if index != self.checkpoints.index:
                return index
        return None

    def _tracker(self, index: int) -> PitLaneTracker:
        tracker = self._trackers.get(index)
        if tracker is None:
            tracker = self._trackers[index] = PitLaneTracker(self.layout, self.transponders)
        return tracker

    def _control_record(self, record: ControlLogRecord) -> None:
        self.control_records += 1
        if record.key in self._control_session:
            index = self._control_session[record.key]
        else:
            index = self._last_index()
            self._control_session[record.key] = index
        if index is None:
            self._control_pending.append(record)
            return
        self._control.setdefault(index, []).append(record)
        self._penalties.pop(index, None)
        self._bump(index)

    def _attach_pending(self) -> None:
        """The first session the feed or loops opened: the entries logged before it belong to
        it (not to a checkpoint session or a judges' competition that came first)."""
        sessions = self.engine.sessions
        first = next(
            (
                index
                for index, session in enumerate(sessions)
                if index != self.checkpoints.index and not session.manual
            ),
            None,
        )
        if first is None:
            return
        pending, self._control_pending = self._control_pending, []
        for record in pending:
            self._control_session[record.key] = first
            self._control.setdefault(first, []).append(record)
        self._penalties.pop(first, None)
        self._bump(first)

    def _bump(self, index: int) -> None:
        self._revisions[index] = self._revisions.get(index, 0) + 1
