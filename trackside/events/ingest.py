"""Relay ingest: append a batch of records to an event's durable log, idempotently.

Each record is committed before the reply. A record whose ``(source, seq)`` is already stored is
acknowledged and not stored again. The reply carries ``acked_seq``: the highest seq of that
source stored with no gap below it, so a relay knows where to resume after an outage.

Records join the scoring order (``position``) only when they join their source's contiguous
run, so the engine sees each source in seq order even if a batch after a gap arrives first.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from trackside.events.lognotices import notify
from trackside.events.racelog import EventLive, LogRecord, RelaySource

MAX_BATCH = 1_000


@dataclass(frozen=True, slots=True)
class IncomingRecord:
    seq: int
    received_at_ms: int
    type: str
    data: str


@dataclass(frozen=True, slots=True)
class PlacedRecord:
    """A record of this batch as stored, with its place in the scoring order: what the event's
    processor applies (it reads like a ``LogRecord`` row) without reading it back."""

    position: int
    source: str
    seq: int
    received_at_ms: int
    type: str
    data: str


@dataclass(frozen=True, slots=True)
class Ack:
    source: str
    stored: int
    duplicates: int
    acked_seq: int
    placed: int  # records that joined the scoring order with this batch
    # Those placed records when all of them came with this batch, in position order; empty when
    # some were stored before (a batch that closed a gap): the processor reads the log then.
    records: tuple[PlacedRecord, ...] = ()


class EventLocks:
    """One lock per event, so two batches of one event never interleave their placing; and
    the name of this node, which the notice of placed records carries."""

    def __init__(self, node: str = "") -> None:
        self.node = node
        self._locks: dict[int, asyncio.Lock] = {}

    def __call__(self, event_id: int) -> asyncio.Lock:
        lock = self._locks.get(event_id)
        if lock is None:
            lock = self._locks[event_id] = asyncio.Lock()
        return lock


async def source_data(db: AsyncSession, event_id: int, source: str, kind: str) -> list[str]:
    """The data of one source's records of one type in the event's log, in seq order."""
    query = (
        select(LogRecord.data)
        .where(LogRecord.event_id == event_id, LogRecord.source == source)
        .where(LogRecord.type == kind)
        .order_by(LogRecord.seq)
    )
    return list((await db.scalars(query)).all())


async def acked_seq(db: AsyncSession, event_id: int, source: str) -> int:
    row = await db.get(RelaySource, (event_id, source))
    return row.acked_seq if row else 0


async def append(
    db: AsyncSession,
    locks: EventLocks,
    event_id: int,
    source: str,
    records: list[IncomingRecord],
) -> Ack:
    """Store the batch and place whatever became contiguous; one transaction."""
    async with locks(event_id):
        now = datetime.now(UTC)
        live = await db.get(EventLive, event_id, with_for_update=True)
        if live is None:
            live = EventLive(event_id=event_id, live=False, log_length=0)
            db.add(live)
        relay = await db.get(RelaySource, (event_id, source), with_for_update=True)
        if relay is None:
            relay = RelaySource(event_id=event_id, source=source, acked_seq=0)
            db.add(relay)
        relay.last_seen_at = now

        by_seq: dict[int, IncomingRecord] = {}
        for record in records:
            by_seq.setdefault(record.seq, record)  # the same seq twice in a batch: first wins
        # Everything up to acked_seq is stored; of what lies beyond, one query says what is.
        before = relay.acked_seq
        stored_after = await _stored_after(db, event_id, source, before)
        fresh = [r for seq, r in sorted(by_seq.items()) if seq > before and seq not in stored_after]
        after = before
        fresh_by_seq = {r.seq: r for r in fresh}
        while after + 1 in stored_after or after + 1 in fresh_by_seq:
            after += 1
        base = live.log_length
        if fresh:
            # One multi-row INSERT for the batch, each record placed as it is stored when it
            # joins the contiguous run (no UPDATE afterwards unless older records join too).
            await db.execute(
                insert(LogRecord),
                [
                    {
                        "event_id": event_id,
                        "source": source,
                        "seq": r.seq,
                        "received_at_ms": r.received_at_ms,
                        "type": r.type,
                        "data": r.data,
                        "stored_at": now,
                        "position": base + r.seq - before if r.seq <= after else None,
                    }
                    for r in fresh
                ],
            )
        placed: tuple[PlacedRecord, ...] = ()
        if after > before:
            if any(before < seq <= after for seq in stored_after):
                # A batch that closed a gap: records stored earlier join the order too.
                await db.execute(
                    update(LogRecord)
                    .where(
                        LogRecord.event_id == event_id,
                        LogRecord.source == source,
                        LogRecord.seq > before,
                        LogRecord.seq <= after,
                    )
                    .values(position=base + LogRecord.seq - before)
                    .execution_options(synchronize_session=False)
                )
            else:
                placed = tuple(
                    PlacedRecord(base + seq - before, source, seq, r.received_at_ms, r.type, r.data)
                    for seq in range(before + 1, after + 1)
                    for r in (fresh_by_seq[seq],)
                )
            live.log_length = base + (after - before)
            relay.acked_seq = after
            await notify(db, event_id, locks.node)  # the node that leads, if not this one
        if fresh:
            live.last_record_at = now
        await db.commit()
        return Ack(
            source=source,
            stored=len(fresh),
            duplicates=len(records) - len(fresh),
            acked_seq=relay.acked_seq,
            placed=after - before,
            records=placed,
        )


async def _stored_after(db: AsyncSession, event_id: int, source: str, after: int) -> set[int]:
    """The seqs of ``source`` stored beyond ``after`` (records that came after a gap)."""
    query = select(LogRecord.seq).where(
        LogRecord.event_id == event_id, LogRecord.source == source, LogRecord.seq > after
    )
    return set((await db.scalars(query)).all())
