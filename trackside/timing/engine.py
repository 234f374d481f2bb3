"""The race engine: RMonitor records in, sessions with standings out.

State is a pure function of the records applied in order: no clock reads, no I/O. The replay
command and the live server run this same code.

Session boundaries follow the timing system's habits (reference §4): a *change* of run number
starts a session, ``$B,95`` closes the current one, and ``$I`` clears the scoreboard. Because a
new run begins with ``$I`` bursts *before* its ``$B``, a ``$I`` is held as pending: records
that do not tell which run they belong to (heartbeats, settings, more ``$I``) wait with it
until a ``$B`` or a scoreboard record decides whether this is a new run or a reset of the
current one. The previous run's final classification is never wiped by the next run's ``$I``.

After ``$B,95`` (close) the timing system re-sends the closed run's final classification: until
the next ``$I`` those records update the closed run. Records that belong to no run yet (before
the first ``$B``, or after a close's ``$I``) wait in a session of their own that is never
listed; the next ``$B`` adopts it, so no session without a run is ever shown.

An event with no RMonitor feed is scored from loop passings in a session the scorer opens with
``open_passings_session``; the first RMonitor record ends it, and from then on RMonitor alone
opens sessions (``timing.scorer``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from trackside.feeds.records import (
    NO_RUN,
    CaptureBlock,
    Competitor,
    Correction,
    FeedError,
    Heartbeat,
    Init,
    Passing,
    PracticeOrder,
    RaceClass,
    RaceOrder,
    Record,
    Run,
    Setting,
    UnknownRecord,
)
from trackside.timing.session import Session

# Records that may wait with a pending reset; anything else decides it.
_UNDECIDED = (Heartbeat, Setting, Init, CaptureBlock, UnknownRecord, FeedError)
# Records that open the full refresh the timing system sends after a scoreboard reset.
_REFRESH_STARTS = (Run, Competitor, RaceClass)
# A pending reset that nothing decides within this many records is a reset of the current run.
MAX_PENDING = 300
# Keep at most this many bad records in memory for reports (all are counted).
MAX_KEPT_ERRORS = 1_000


@dataclass(slots=True)
class RaceEngine:
    """Applies records one by one and keeps every session of the feed."""

    sessions: list[Session] = field(default_factory=list)
    current: Session | None = None
    records: int = 0
    errors: int = 0
    unknown: int = 0
    kept_errors: list[FeedError] = field(default_factory=list)
    heartbeat: Heartbeat | None = None  # the latest, also between runs
    rmonitor_seen: bool = False  # any RMonitor record applied yet (bad lines aside)
    # The run closed by ``$B,95``: takes the re-sent final classification until an ``$I``.
    closed: Session | None = None
    # Records with no run yet, held for the next ``$B`` (never listed in ``sessions``).
    unassigned: Session | None = None
    # Records that may have changed a board other than by its clock: all but the heartbeats of
    # the hot path (whose flag changes show in the session's flag periods). A live board that
    # sees the same count (and the same scorer revision) asks only the clock again.
    board_changes: int = 0
    _pending_reset: bool = False
    _pending: list[Record] = field(default_factory=list)

    def apply_all(self, records: object) -> None:
        for record in records:  # type: ignore[attr-defined]
            self.apply(record)

    def apply(self, record: Record) -> None:
        """Apply one record; a bad record is counted and kept, never raised."""
        self.records += 1
        kind = type(record)
        if kind is Heartbeat and self.rmonitor_seen and not self._pending_reset:
            # The once-a-second record: the hot path of every replay.
            self.heartbeat = record  # type: ignore[assignment]
            current = self.current or self.unassigned
            if current is not None:
                current.records += 1
                current.apply_heartbeat(record)  # type: ignore[arg-type]
            return
        self.board_changes += 1
        if not self.rmonitor_seen and kind is not FeedError and kind is not CaptureBlock:
            self._rmonitor_begins()
        if kind is FeedError:
            self.errors += 1
            if len(self.kept_errors) < MAX_KEPT_ERRORS:
                self.kept_errors.append(record)
            return
        if self._pending_reset:
            if isinstance(record, _UNDECIDED) and len(self._pending) < MAX_PENDING:
                self._pending.append(record)
                return
            self._decide(record)
            return
        self._route(record)

    # --- session boundaries ------------------------------------------------------------------

    def open_passings_session(self, name: str) -> Session:
        """A session scored from loop passings, for an event with no RMonitor feed (yet)."""
        session = self._open(None, name)
        session.from_passings = True
        return session

    def _rmonitor_begins(self) -> None:
        """The RMonitor feed is the truth for order and laps: a passings session ends."""
        self.rmonitor_seen = True
        if self.current is not None and self.current.from_passings:
            self.current.ended = True
            self.current = None

    def _decide(self, record: Record) -> None:
        held, self._pending = self._pending, []
        self._pending_reset = False
        if type(record) is Run and (self.current is None or record.number != self.current.run):
            self._route(record)  # a new run: it starts clean, the old one stays as it was
            for item in held:
                self.apply_held(item)
            return
        board = self.current or self.unassigned
        if board is not None:
            # A refresh (competitors, classes, the run again) rebuilds the board from scratch;
            # passings or orders straight after the $I mean no refresh is coming, so the board
            # is kept and corrected car by car as they cross (never blanked).
            board.reset_scoreboard(wipe=type(record) in _REFRESH_STARTS)
        for item in held:
            self.apply_held(item)
        self._route(record)

    def apply_held(self, record: Record) -> None:
        if type(record) is Init:
            return  # one burst = one clear
        self._route(record)

    def _route(self, record: Record) -> None:
        kind = type(record)
        if kind is Heartbeat:
            self.heartbeat = record  # type: ignore[assignment]
            current = self.current or self.unassigned
            if current is not None:
                current.records += 1
                current.apply_heartbeat(record)  # type: ignore[arg-type]
            return
        if kind is Run:
            self._run(record)  # type: ignore[arg-type]
            return
        if kind is Init:
            self._pending_reset = True
            self.closed = None  # the closed run's last word is over
            return
        if kind in (UnknownRecord, CaptureBlock):
            self.unknown += kind is UnknownRecord
            return
        handler = _HANDLERS.get(kind)
        if handler is None:
            return  # IMSA/Orbits/relay extras: parsed and kept upstream, not scored here
        if not getattr(record, "registration", "x").strip():
            return  # an empty row ($G,37,"",,"00:00:00") is no car
        session = self.current or self.closed or self.unassigned
        if session is None:
            # No run yet (a capture that starts mid-refresh, or after a close's $I): held
            # for the next $B.
            session = self.unassigned = Session(run=None)
        session.records += 1
        handler(session, record)

    def _run(self, record: Run) -> None:
        current = self.current
        if record.number == NO_RUN:
            if current is not None:
                current.ended = True
                current.records += 1
                self.closed = current
                self.current = None
            return
        if current is not None and current.run == record.number:
            if record.description and record.description != current.name:
                current.rename(record.description)
            current.records += 1
            current.begin_refresh()
            return
        if current is not None:
            current.ended = True
        self._open(record.number, record.description)

    def _open(self, run: int | None, name: str) -> Session:
        session = Session(run=run)
        if run is not None:
            self.closed = None
            if self.unassigned is not None:  # what came before this $B belongs to it
                session, self.unassigned = self.unassigned, None
                session.run = run
        session.rename(name)
        session.records += 1
        self.sessions.append(session)
        self.current = session
        return session


_HANDLERS = {
    Competitor: Session.apply_competitor,
    RaceClass: Session.apply_class,
    Setting: Session.apply_setting,
    RaceOrder: Session.apply_race_order,
    PracticeOrder: Session.apply_practice_order,
    Passing: Session.apply_passing,
    Correction: Session.apply_correction,
}
