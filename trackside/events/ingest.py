"""Relay ingest: append a batch of records to an event's durable log, idempotently.

Each record is committed before the reply. A record whose ``(source, seq)`` is already stored is
acknowledged and not stored again. The reply carries ``acked_seq``: the highest seq of that
source stored with no gap below it, so a relay knows where to resume after an outage.

Records join the scoring order (``position``) only when they join their source's contiguous
run, so the engine sees each source in seq order even if a batch after a gap arrives first.

The transaction is one synchronous function (``place``), run on the caller's ``db`` connection
(``run_sync``), or on SQLite by the writer (``store.writer``: on the loop or in one hop to its
thread) when the caller's ``db`` holds no write of its own that the append must commit with it.
Its statements are ``events.logwrites``: Core, or plain SQL on the writer's ``sqlite3``
connection. A caller with no session of its own (the relay's lane) passes none and a way to
open one: on SQLite the writer needs none, and opening and closing one costs more than the
append.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

from sqlalchemy import Connection, select
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.ext.asyncio import AsyncSession

from trackside.events.logwrites import CoreWrites, Finish, LogWrites, SqliteWrites, instants
from trackside.events.racelog import LogRecord, RelaySource
from trackside.store.writer import SqliteWriter

MAX_BATCH = 1_000
ON_LOOP_RECORDS = 300  # a batch this small may commit on the event loop (``store.writer``): ~2 ms


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
    """One lock per event, so two batches of one event never interleave their placing; the
    name of this node, which the notice of placed records carries; and the SQLite writer the
    appends run on (None: on the caller's ``db``)."""

    def __init__(self, node: str = "", writer: SqliteWriter | None = None) -> None:
        self.node = node
        self.writer = writer
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
    # A query, not the session's copy of the row: appends write with Core statements.
    query = select(RelaySource.acked_seq).where(
        RelaySource.event_id == event_id, RelaySource.source == source
    )
    return (await db.scalar(query)) or 0


async def append(
    db: AsyncSession | None,
    locks: EventLocks,
    event_id: int,
    source: str,
    records: list[IncomingRecord],
    sessions: Callable[[], AsyncSession] | None = None,
) -> Ack:
    """Store the batch and place whatever became contiguous; one transaction, committed
    (with whatever the caller's ``db`` wrote before) when this returns. Without a ``db``, one
    is opened from ``sessions`` (and closed) only if the writer cannot take the append."""
    async with locks(event_id):
        now = datetime.now(UTC)
        if locks.writer is not None and (db is None or not await _writes_pending(db)):
            work = partial(_append_plain, event_id, source, records, locks.node, now)
            return await locks.writer.run(work, small=len(records) <= ON_LOOP_RECORDS)
        core = partial(_append_core, event_id, source, records, locks.node, now)
        if db is not None:
            return await _in_session(db, core)
        if sessions is None:
            raise TypeError("append needs a db or a way to open one (sessions)")
        async with sessions() as own:
            return await _in_session(own, core)


async def _in_session(db: AsyncSession, work: Callable[[Connection], Ack]) -> Ack:
    if db.new or db.dirty or db.deleted:
        await db.flush()
    connection = await db.connection()
    ack = await connection.run_sync(work)
    await db.commit()
    return ack


async def _writes_pending(db: AsyncSession) -> bool:
    """Has ``db`` changed anything it has not committed (on SQLite: holds the write lock)?
    The append must then run in its transaction, committing both together."""
    if db.new or db.dirty or db.deleted:
        return True
    if not db.in_transaction():
        return False
    raw = await (await db.connection()).get_raw_connection()
    # The driver opens a transaction (and takes the write lock) only for a write.
    return bool(raw.driver_connection.in_transaction)


def _append_core(
    event_id: int,
    source: str,
    records: list[IncomingRecord],
    node: str,
    now: datetime,
    connection: Connection,
) -> Ack:
    return place(CoreWrites(connection), event_id, source, records, node, now)


# The writer's instants as SQLAlchemy's SQLite dialect stores them (``logwrites.instants``).
_SQLITE_INSTANT = instants(SQLiteDialect_pysqlite())


def _append_plain(
    event_id: int,
    source: str,
    records: list[IncomingRecord],
    node: str,
    now: datetime,
    connection: sqlite3.Connection,
) -> Ack:
    """On the writer's ``sqlite3`` connection, inside its transaction."""
    return place(SqliteWrites(connection, _SQLITE_INSTANT), event_id, source, records, node, now)


def place(
    writes: LogWrites,
    event_id: int,
    source: str,
    records: list[IncomingRecord],
    node: str,
    now: datetime,
) -> Ack:
    """The append in the caller's transaction, through ``writes``. The event's ``event_live``
    row is locked first (PostgreSQL: across nodes; SQLite: the writer holds the write lock)."""
    tail = writes.tail(event_id, source)
    if tail is None:
        # The event's first record, here or on another node at the same moment: the row is
        # made unless it is there (then after that node's transaction), and read locked.
        writes.new_live(event_id)
        tail = writes.tail(event_id, source)
        assert tail is not None
    base, known, stored_or_none = tail
    stored = stored_or_none or 0
    before = known or 0

    by_seq: dict[int, IncomingRecord] = {}
    for record in records:
        by_seq.setdefault(record.seq, record)  # the same seq twice in a batch: first wins
    # Everything up to acked_seq is stored; beyond it, records are stored only while a gap is
    # open (stored_seq above acked_seq), and then one query says which.
    stored_after = writes.stored_after(event_id, source, before) if stored > before else set()
    fresh = [r for seq, r in sorted(by_seq.items()) if seq > before and seq not in stored_after]
    after = before
    fresh_by_seq = {r.seq: r for r in fresh}
    while after + 1 in stored_after or after + 1 in fresh_by_seq:
        after += 1
    if fresh:
        # One INSERT for the batch, each record placed as it is stored when it joins the
        # contiguous run (no UPDATE afterwards unless older records join too).
        rows = [
            (
                r.seq,
                r.received_at_ms,
                r.type,
                r.data,
                base + r.seq - before if r.seq <= after else None,
            )
            for r in fresh
        ]
        writes.store(event_id, source, rows, now)
        stored = max(stored, fresh[-1].seq)
    placed: tuple[PlacedRecord, ...] = ()
    if after > before:
        if any(before < seq <= after for seq in stored_after):
            # A batch that closed a gap: records stored earlier join the order too.
            writes.place_stored(event_id, source, before, after, base)
        else:
            placed = tuple(
                PlacedRecord(base + seq - before, source, seq, r.received_at_ms, r.type, r.data)
                for seq in range(before + 1, after + 1)
                for r in (fresh_by_seq[seq],)
            )
    grown = after > before or bool(fresh)
    writes.finish(
        Finish(
            event_id=event_id,
            source=source,
            new_source=known is None,
            acked=after,
            stored=max(stored, after),
            now=now,
            length=base + (after - before) if grown else None,
            last_record=bool(fresh),
            tell=after > before,
            node=node,
        )
    )
    return Ack(
        source=source,
        stored=len(fresh),
        duplicates=len(records) - len(fresh),
        acked_seq=after,
        placed=after - before,
        records=placed,
    )
