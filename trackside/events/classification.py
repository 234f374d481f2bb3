"""The official classification of a session: declare it, correct it after a protest, read it.

Every decision is appended to the event's log as a ``classification`` record under the source
``classification`` (seq continuing; the seq is the decision's id) and applied by the event's
processor like any record, so a restart replays the same corrections and versions. Nothing
here keeps state of its own: the processor's ``ClassificationBook`` is the truth.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from trackside.errors import Conflict, Invalid, NotFound
from trackside.events import ingest
from trackside.events.classification_book import SOURCE
from trackside.events.ingest import EventLocks, IncomingRecord
from trackside.events.manager import ProcessorManager
from trackside.events.models import Event, RaceSession
from trackside.events.processors import EventProcessor
from trackside.feeds import classification_records as records
from trackside.timing.classification import Version


def _instant(ms: int | None) -> str | None:
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat().replace("+00:00", "Z")


def correction_json(
    record: records.Correction, withdrawn: records.Withdrawal | None = None
) -> dict[str, Any]:
    """A correction on the wire (as stored, the time as an instant), with its withdrawal if
    it was taken back."""
    data = records.to_json(record)
    del data["action"], data["session"]
    data["at"] = _instant(data.pop("at_ms"))
    data["withdrawn"] = (
        None
        if withdrawn is None
        else {"id": withdrawn.id, "by": withdrawn.by, "at": _instant(withdrawn.at_ms)}
    )
    return data


def version_json(version: Version) -> dict[str, Any]:
    return {
        "revision": version.revision,
        "declaredAt": _instant(version.declared_at_ms),
        "declaredBy": version.declared_by,
        "corrections": [correction_json(c) for c in version.corrections],
        "cars": list(version.cars),
    }


def standing(processor: EventProcessor, index: int) -> dict[str, Any]:
    """The classification as it stands: status, revision, corrections (withdrawn ones
    marked) and the cars, frozen as declared while it is official."""
    book = processor.classification
    state = book.decisions.of(index)
    latest = state.latest
    return {
        "status": state.status,
        "revision": state.revision,
        "declaredAt": _instant(latest.declared_at_ms) if latest else None,
        "declaredBy": latest.declared_by if latest else None,
        "corrections": [
            correction_json(c, state.withdrawn.get(c.id)) for c in state.corrections.values()
        ],
        "cars": book.current(index),
    }


class Desk:
    """Where officials' decisions join the log; one decision of an event at a time, so each
    gets the next seq of the source."""

    def __init__(self, event_locks: EventLocks, processors: ProcessorManager) -> None:
        self._event_locks = event_locks
        self._processors = processors
        self._deciding = EventLocks()

    async def session(
        self, db: AsyncSession, event: Event, session_id: int
    ) -> tuple[EventProcessor, int]:
        """The processor scoring the event and the session's index in its log."""
        row = await db.get(RaceSession, session_id)
        if row is None or row.event_id != event.id:
            raise NotFound(f"no session {session_id} in event {event.id}")
        processor = await self._processors.get(event.id)
        index = processor.index_of(session_id)
        if index is None or index >= len(processor.engine.sessions):
            raise NotFound(f"session {session_id} has no timing results to classify")
        return processor, index

    async def _append(
        self,
        db: AsyncSession,
        event_id: int,
        make: Callable[[int, int], records.ClassificationRecord],
    ) -> records.ClassificationRecord:
        async with self._deciding(event_id):
            seq = await ingest.acked_seq(db, event_id, SOURCE) + 1
            now = time.time_ns() // 1_000_000
            record = make(seq, now)
            line = IncomingRecord(seq, now, records.RECORD_TYPE, records.encode(record))
            ack = await ingest.append(db, self._event_locks, event_id, SOURCE, [line])
            if ack.stored != 1 or ack.placed != 1:  # someone else wrote this source
                raise Conflict(f"the log's {SOURCE!r} source is out of step; nothing decided")
            await self._processors.records_placed(event_id)
        return record

    async def declare(self, db: AsyncSession, event: Event, session_id: int, by: str) -> None:
        processor, index = await self.session(db, event, session_id)
        book = processor.classification
        state = book.decisions.of(index)
        latest = state.latest
        if state.official and latest and list(latest.cars) == book.classified(index, state.active):
            raise Conflict(f"revision {state.revision} is already official and nothing changed")
        await self._append(db, event.id, lambda seq, now: records.Declaration(seq, index, by, now))

    async def correct(
        self,
        db: AsyncSession,
        event: Event,
        session_id: int,
        by: str,
        fix: dict[str, Any],
    ) -> dict[str, Any]:
        """Append a correction (``fix``: car, kind, laps, ms, class, reason); the car must be
        in the session and the kind's own value given."""
        processor, index = await self.session(db, event, session_id)
        cars = {car["number"] for car in processor.session_result(index)["cars"]}
        if fix["car"] not in cars:
            raise Invalid("car", f"car {fix['car']} is not in this session")
        kind = fix["kind"]
        needs = {"laps": "laps", "time_penalty": "ms", "class": "class"}.get(kind)
        if needs is not None and not fix.get(needs):
            raise Invalid(needs, f"a {kind} correction needs a non-zero {needs}")

        def make(seq: int, now: int) -> records.Correction:
            return records.Correction(
                seq,
                index,
                by,
                now,
                car=fix["car"],
                kind=kind,
                reason=fix["reason"],
                laps=fix.get("laps") if kind == "laps" else None,
                ms=fix.get("ms") if kind == "time_penalty" else None,
                class_name=fix.get("class") if kind == "class" else None,
            )

        record = await self._append(db, event.id, make)
        assert isinstance(record, records.Correction)
        return correction_json(record)

    async def withdraw(
        self, db: AsyncSession, event: Event, session_id: int, correction: int, by: str
    ) -> None:
        processor, index = await self.session(db, event, session_id)
        state = processor.classification.decisions.of(index)
        if correction not in state.corrections or correction in state.withdrawn:
            raise NotFound(f"no correction {correction} in force in session {session_id}")
        await self._append(
            db,
            event.id,
            lambda seq, now: records.Withdrawal(seq, index, by, now, correction, "withdrawn"),
        )

    async def view(self, db: AsyncSession, event: Event, session_id: int) -> dict[str, Any]:
        processor, index = await self.session(db, event, session_id)
        return {"sessionId": session_id, **standing(processor, index)}

    async def versions(self, db: AsyncSession, event: Event, session_id: int) -> dict[str, Any]:
        processor, index = await self.session(db, event, session_id)
        state = processor.classification.decisions.of(index)
        return {"sessionId": session_id, "versions": [version_json(v) for v in state.versions]}
