"""The live snapshot: everything a live screen shows, as plain JSON-ready data.

Shape (the body; ``LiveState`` adds ``"version"``)::

    {"current": int | None,            # index of the session being scored, None between runs
     "sessions": [session, ...]}       # timing.results.session_result, one per run

Each session carries its heartbeat (``flag``, ``laps_to_go``, ``time_to_go_ms``,
``race_time_ms``, ``time_of_day_ms``), ``flag_periods`` and ``cars`` with every car field, the
same shape ``trackside replay --output`` writes, less the session's ``records`` counter: it
moves with every record, so keeping it would make each record a version carrying nothing a
screen shows. Sessions are addressed by their index in the
list: the engine only ever appends sessions, so an index names one session for the whole event,
where a run number is unknown before the first ``$B`` and may come back later in a day.

Built from a ``Scorer`` (loops and race control included) or a bare ``RaceEngine``.
"""

from __future__ import annotations

from typing import Any

from trackside.live.car_rows import LiveCars
from trackside.timing.engine import RaceEngine
from trackside.timing.extras import NONE, SessionExtras
from trackside.timing.results import session_result
from trackside.timing.scorer import Scorer
from trackside.timing.session import Session

Snapshot = dict[str, Any]


def _scorer(source: RaceEngine | Scorer) -> Scorer:
    return source if isinstance(source, Scorer) else Scorer(source)


def current_index(source: RaceEngine | Scorer) -> int | None:
    """Index of the session being scored, or None between runs."""
    engine = source.engine if isinstance(source, Scorer) else source
    current = engine.current
    if current is None:
        return None
    for index in range(len(engine.sessions) - 1, -1, -1):
        if engine.sessions[index] is current:
            return index
    return None


def live_session(
    session: Session, extras: SessionExtras = NONE, cars: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """One session as live screens get it: its result without the record counter.

    ``cars``: the session's car results, when a ``LiveCars`` keeps them.
    """
    result = session_result(session, extras, cars)
    del result["records"]
    return result


def build_snapshot(source: RaceEngine | Scorer) -> Snapshot:
    """The snapshot body of an engine or scorer, every session built afresh."""
    scorer = _scorer(source)
    return {
        "current": current_index(scorer),
        "sessions": [
            live_session(session, scorer.extras(index))
            for index, session in enumerate(scorer.sessions)
        ],
    }


class SnapshotBuilder:
    """Builds the snapshot bodies of one engine, re-using the results of sessions that are over.

    A session that has ended receives no more feed records, so its result changes only when
    loops or race control add to it (the scorer's revision of the session): building it again
    on every update would make each update of a long day cost more than the one before.
    Re-used results are the same objects, which also lets the patch diff skip them at once;
    so are the cars of a session being scored that did not change (``live.car_rows``), worked
    out again only as far as a record or the clock changed them.
    """

    __slots__ = ("_cars", "_done", "engine", "scorer")

    def __init__(self, source: RaceEngine | Scorer) -> None:
        self.scorer = _scorer(source)
        self.engine = self.scorer.engine
        self._done: dict[int, tuple[Session, int, dict[str, Any]]] = {}
        self._cars: dict[int, tuple[Session, LiveCars]] = {}

    def build(self) -> Snapshot:
        scorer = self.scorer
        current = self.engine.current
        sessions: list[dict[str, Any]] = []
        for index, session in enumerate(self.engine.sessions):
            kept = self._done.get(index)
            revision = scorer.revision(index)
            if kept is not None and kept[0] is session and kept[1] == revision:
                sessions.append(kept[2])
                continue
            extras = scorer.extras(index)
            board = self._board(session, revision)
            cars = self._cars_of(index, session).cars(session, extras, board)
            result = live_session(session, extras, cars)
            if session.ended and session is not current:
                self._done[index] = (session, revision, result)
                self._cars.pop(index, None)  # built again only if its revision moves
            sessions.append(result)
        return {"current": current_index(scorer), "sessions": sessions}

    def _cars_of(self, index: int, session: Session) -> LiveCars:
        kept = self._cars.get(index)
        if kept is None or kept[0] is not session:
            kept = self._cars[index] = (session, LiveCars())
        return kept[1]

    def _board(self, session: Session, revision: int) -> tuple[Any, ...]:
        """Changes whenever what the session's standings read may have, but for the clock:
        any record other than a heartbeat, what loops or the log add, a flag."""
        return (
            self.engine.board_changes,
            revision,
            session.heart.flag,
            len(session.flag_periods),
            session.ended,
            session.type,
        )
