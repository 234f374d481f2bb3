"""The race-control log of an event: import a CSV (upload or poll), read it back.

An import reads the CSV with the event's column mapping and penalty rules, compares it with
the revisions the log already holds (``feeds.controllog.changes``) and appends only the new
and changed rows, and a removal for each row gone upstream, to the event's log as records of
type ``controllog`` under the source ``controllog``, seq continuing. Each upload or poll is
the whole log as race control keeps it. The processor applies those records like any other,
so the standings replay with their penalties, and nothing changes silently: an edited entry
is a new revision that supersedes the old one.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from trackside.controllog import source as controllog_config
from trackside.controllog.models import ControlLogSource
from trackside.controllog.schemas import BadRowOut, CarTallyOut, ControlLogOut
from trackside.events import entries as entries_service
from trackside.events import ingest
from trackside.events.ingest import EventLocks, IncomingRecord
from trackside.events.manager import ProcessorManager
from trackside.feeds import controllog_codec
from trackside.feeds.clock import format_clock
from trackside.feeds.controllog import changes, issues, parse_control_log
from trackside.feeds.controllog_records import (
    ControlLogBadRow,
    ControlLogEntry,
    ControlLogRecord,
    ControlLogRemoval,
)
from trackside.timing.penalties import car_penalties

SOURCE = "controllog"


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What one import added to the log."""

    rows: int  # data rows read (entries and bad rows)
    new: int  # keys the log did not hold
    changed: int  # new revisions of held keys
    removed: int  # keys gone upstream
    bad_rows: int  # rows of this import that could not be read
    acked_seq: int  # the source's last seq in the log after the import

    @property
    def appended(self) -> int:
        return self.new + self.changed + self.removed


async def history(db: AsyncSession, event_id: int) -> list[ControlLogRecord]:
    """Every revision the event's log holds, in log order (undecodable ones are the
    processor's to report)."""
    stored = await ingest.source_data(db, event_id, SOURCE, controllog_codec.RECORD_TYPE)
    out: list[ControlLogRecord] = []
    for data in stored:
        try:
            out.append(controllog_codec.decode(data))
        except ValueError:
            continue
    return out


class ControlLogs:
    """Imports into the event log; one import of an event at a time."""

    def __init__(self, event_locks: EventLocks, processors: ProcessorManager) -> None:
        self._event_locks = event_locks
        self._processors = processors
        self._imports = EventLocks()

    async def import_csv(self, db: AsyncSession, event_id: int, data: bytes) -> ImportResult:
        async with self._imports(event_id):
            row = await db.get(ControlLogSource, event_id)
            mapping, rules = controllog_config.reading(row)
            parsed = parse_control_log(data, mapping, rules)
            held = await history(db, event_id)
            new = changes(held, parsed)
            acked = await ingest.acked_seq(db, event_id, SOURCE)
            placed = 0
            if new:
                now = time.time_ns() // 1_000_000
                records = [
                    IncomingRecord(
                        acked + i, now, controllog_codec.RECORD_TYPE, controllog_codec.encode(r)
                    )
                    for i, r in enumerate(new, start=1)
                ]
                ack = await ingest.append(db, self._event_locks, event_id, SOURCE, records)
                acked, placed = ack.acked_seq, ack.placed
        if placed:
            await self._processors.records_placed(event_id)
        keys = {record.key for record in held}
        return ImportResult(
            rows=len(parsed),
            new=sum(1 for r in new if r.key not in keys),
            changed=sum(1 for r in new if r.key in keys and not isinstance(r, ControlLogRemoval)),
            removed=sum(1 for r in new if isinstance(r, ControlLogRemoval)),
            bad_rows=sum(1 for r in parsed if isinstance(r, ControlLogBadRow)),
            acked_seq=acked,
        )


# Stored field names as the API shows them.
_WIRE = {"time_of_day_ms": "timeOfDayMs", "penalty_text": "penalty", "penalty": "outcome"}


def _revision(record: ControlLogRecord) -> dict[str, Any]:
    """A revision on the wire: its stored fields in camelCase, the time also as a clock."""
    data = controllog_codec.to_json(record)
    kind = data.pop("kind")
    out = {_WIRE.get(name, name): value for name, value in data.items()}
    if kind == controllog_codec.ENTRY:
        out["time"] = format_clock(out["timeOfDayMs"])
        out["extra"] = dict(out["extra"])
    elif kind == controllog_codec.REMOVAL:
        out["removed"] = True
    return out


def _by_key(records: Sequence[ControlLogRecord]) -> dict[str, list[ControlLogRecord]]:
    out: dict[str, list[ControlLogRecord]] = {}
    for record in records:
        out.setdefault(record.key, []).append(record)
    for revisions in out.values():
        revisions.sort(key=lambda r: r.revision)
    return out


async def view(db: AsyncSession, processors: ProcessorManager, event_id: int) -> ControlLogOut:
    """The log as it stands: each key's current revision with those it superseded, the
    per-car tally over the whole log, and the rows that could not be used, with why."""
    records = await history(db, event_id)
    processor = await processors.get(event_id)
    entered = await entries_service.entered_numbers(db, event_id)
    scored = {car.number for s in processor.engine.sessions for car in s.cars.values()}
    known = {*entered, *scored} or None  # nobody known yet: no car is called unknown
    entries, removed = [], []
    for key, revisions in _by_key(records).items():
        current = revisions[-1]
        item = {
            **_revision(current),
            "session": processor.scorer.control_session(key),
            "superseded": [_revision(r) for r in revisions[:-1]],
        }
        if isinstance(current, ControlLogEntry):
            entries.append(item)
        elif isinstance(current, ControlLogRemoval):
            removed.append(item)
    latest = {key: revisions[-1] for key, revisions in _by_key(records).items()}
    bad = []
    for issue in issues(records, known):
        record = latest[issue.key]
        bad.append(
            BadRowOut(
                key=issue.key,
                row=issue.row,
                reason=issue.reason,
                cars=list(issue.cars),
                cells=list(record.cells) if isinstance(record, ControlLogBadRow) else [],
            )
        )
    return ControlLogOut(
        event_id=event_id,
        records=len(records),
        entries=entries,
        removed=removed,
        cars=[
            CarTallyOut(
                car=tally.car,
                warnings=tally.warnings,
                penalty_laps=tally.penalty_laps,
                black_flags=tally.black_flags,
                entries=list(tally.entries),
            )
            for tally in car_penalties(records).values()
        ],
        bad_rows=bad,
    )
