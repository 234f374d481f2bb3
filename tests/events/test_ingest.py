"""Appending to an event's log directly (no HTTP): gaps, re-sends, the placing order, and the
stored seq that spares the gap query; on both databases."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from trackside.config import Settings
from trackside.events import ingest
from trackside.events.ingest import IncomingRecord
from trackside.events.logwrites import CoreWrites
from trackside.events.models import Event, Organization
from trackside.events.racelog import EventLive, LogRecord, RelaySource
from trackside.platform import Platform


async def new_event(platform: Platform, name: str = "E") -> int:
    async with platform.db_factory() as db:
        org = Organization(name=f"Club {name}", description="")
        db.add(org)
        await db.flush()
        when = datetime(2026, 6, 1, tzinfo=UTC)
        event = Event(organization_id=org.id, name=name, start_date=when, end_date=when)
        db.add(event)
        await db.commit()
        return event.id


def batch(*seqs: int) -> list[IncomingRecord]:
    return [IncomingRecord(seq, 1000 + seq, "rmonitor", f"line {seq}") for seq in seqs]


async def _append(platform: Platform, event_id: int, source: str, *seqs: int) -> ingest.Ack:
    async with platform.db_factory() as db:
        await db.get(Event, event_id)  # as the route's dependency does before the append
        return await ingest.append(db, platform.event_locks, event_id, source, batch(*seqs))


async def _log(platform: Platform, event_id: int) -> list[tuple[str, int, int | None]]:
    async with platform.db_factory() as db:
        rows = await db.execute(
            select(LogRecord.source, LogRecord.seq, LogRecord.position)
            .where(LogRecord.event_id == event_id)
            .order_by(LogRecord.source, LogRecord.seq)
        )
        return [tuple(row) for row in rows.all()]  # type: ignore[misc]


async def _source(platform: Platform, event_id: int, source: str) -> tuple[int, int]:
    async with platform.db_factory() as db:
        row = await db.get(RelaySource, (event_id, source))
        assert row is not None
        return row.acked_seq, row.stored_seq


async def test_a_gap_waits_and_closes_in_seq_order(platform: Platform) -> None:
    event = await new_event(platform)
    other = await _append(platform, event, "b", 1)  # another source keeps its own run
    assert other.records == (ingest.PlacedRecord(1, "b", 1, 1001, "rmonitor", "line 1"),)

    ahead = await _append(platform, event, "a", 5, 6, 7)
    assert (ahead.stored, ahead.acked_seq, ahead.placed, ahead.records) == (3, 0, 0, ())
    assert await _source(platform, event, "a") == (0, 7)

    part = await _append(platform, event, "a", 2, 1, 6, 8)  # 6 is stored, 8 waits too
    assert (part.stored, part.duplicates, part.acked_seq, part.placed) == (3, 1, 2, 2)
    assert [r.seq for r in part.records] == [1, 2] and [r.position for r in part.records] == [2, 3]
    assert await _source(platform, event, "a") == (2, 8)

    closing = await _append(platform, event, "a", 3, 4)
    # Records stored before joined: the processor reads them from the log.
    assert (closing.stored, closing.acked_seq, closing.placed, closing.records) == (2, 8, 6, ())
    assert await _source(platform, event, "a") == (8, 8)

    after = await _append(platform, event, "a", 9, 10)
    assert [(r.seq, r.position) for r in after.records] == [(9, 10), (10, 11)]
    assert await _log(platform, event) == [
        *[("a", seq, seq + 1) for seq in range(1, 11)],
        ("b", 1, 1),
    ]
    async with platform.db_factory() as db:
        live = await db.get(EventLive, event)
        assert live is not None and live.log_length == 11 and live.last_record_at is not None


async def test_a_batch_of_duplicates_only_touches_last_seen(platform: Platform) -> None:
    event = await new_event(platform)
    await _append(platform, event, "a", 1, 2, 3)
    async with platform.db_factory() as db:
        seen = await db.scalar(select(RelaySource.last_seen_at))
        last = await db.scalar(select(EventLive.last_record_at))
    again = await _append(platform, event, "a", 3, 2, 2, 1)
    assert (again.stored, again.duplicates, again.acked_seq, again.placed) == (0, 4, 3, 0)
    async with platform.db_factory() as db:
        assert (await db.scalar(select(RelaySource.last_seen_at))) > seen  # type: ignore[operator]
        assert await db.scalar(select(EventLive.last_record_at)) == last
    async with platform.db_factory() as db:
        assert await ingest.acked_seq(db, event, "a") == 3
        assert await ingest.acked_seq(db, event, "nobody") == 0


async def test_a_batch_sent_again_after_a_restart_is_stored_once(settings: Settings) -> None:
    first = await Platform.start(settings)
    try:
        event = await new_event(first)
        await _append(first, event, "a", 1, 2, 3)
        await _append(first, event, "a", 5)  # a gap open across the restart
    finally:
        await first.close()
    second = await Platform.start(settings)
    try:
        again = await _append(second, event, "a", 1, 2, 3, 4, 5)
        assert (again.stored, again.duplicates, again.acked_seq, again.placed) == (1, 4, 5, 2)
        more = await _append(second, event, "a", 6)
        assert [(r.seq, r.position) for r in more.records] == [(6, 6)]
        assert await _log(second, event) == [("a", seq, seq) for seq in range(1, 7)]
    finally:
        await second.close()


async def test_the_append_commits_what_the_callers_db_wrote_before(platform: Platform) -> None:
    event = await new_event(platform)
    async with platform.db_factory() as db:
        db.add(Organization(name="Written first", description=""))
        await db.flush()  # SQLite: this db holds the write lock now
        ack = await ingest.append(db, platform.event_locks, event, "a", batch(1))
        assert ack.placed == 1
    async with platform.db_factory() as db:
        assert await db.scalar(select(Organization.id).where(Organization.name == "Written first"))
    assert await _log(platform, event) == [("a", 1, 1)]


async def test_without_a_db_a_session_is_opened_only_if_the_append_needs_one(
    platform: Platform,
) -> None:
    """The relay's lane has no session: on SQLite the writer stores the batch without one;
    on PostgreSQL one is opened for the append, and closed (its connection back in the pool)."""
    event = await new_event(platform)
    opened: list[AsyncSession] = []

    def sessions() -> AsyncSession:
        opened.append(platform.db_factory())
        return opened[-1]

    first = await ingest.append(None, platform.event_locks, event, "a", batch(1, 2), sessions)
    again = await ingest.append(None, platform.event_locks, event, "a", batch(2, 3), sessions)
    assert (first.stored, first.acked_seq, again.stored, again.duplicates) == (2, 2, 1, 1)
    assert await _log(platform, event) == [("a", 1, 1), ("a", 2, 2), ("a", 3, 3)]
    if platform.settings.is_sqlite:
        assert opened == []
    else:
        assert len(opened) == 2
        assert all(not session.in_transaction() for session in opened)
        assert platform.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
        with pytest.raises(TypeError):  # no session and no way to open one
            await ingest.append(None, platform.event_locks, event, "a", batch(4))


async def test_appends_wait_for_a_writer_of_the_async_engine(platform: Platform) -> None:
    event = await new_event(platform)
    async with platform.db_factory() as holder:
        holder.add(Organization(name="Holding", description=""))
        await holder.flush()  # SQLite: the write lock, until the commit
        appending = asyncio.create_task(_append(platform, event, "a", 1, 2))
        await asyncio.sleep(0.05)
        await holder.commit()
    ack = await appending
    assert (ack.stored, ack.placed) == (2, 2)
    assert await _log(platform, event) == [("a", 1, 1), ("a", 2, 2)]


@pytest.mark.parametrize("batches", [[[3], [1], [2]], [[2, 3], [1]], [[1], [3], [2, 4]]])
async def test_any_arrival_order_places_one_source_in_seq_order(
    platform: Platform, batches: list[list[int]]
) -> None:
    event = await new_event(platform)
    for seqs in batches:
        await _append(platform, event, "a", *seqs)
    stored = max(seq for seqs in batches for seq in seqs)
    assert await _log(platform, event) == [("a", seq, seq) for seq in range(1, stored + 1)]
    assert await _source(platform, event, "a") == (stored, stored)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_two_nodes_appending_an_events_first_records_at_once_both_store(
    platform: Platform,
) -> None:
    """Two nodes (no lock shared in memory) each append the event's very first records: the
    second waits for the first's transaction, then places its records after them."""
    event = await new_event(platform)
    now = datetime.now(UTC)

    def first(source: str, seqs: tuple[int, ...], node: str) -> Callable[[Any], ingest.Ack]:
        return lambda c: ingest.place(CoreWrites(c), event, source, batch(*seqs), node, now)

    async with platform.engine.connect() as a, platform.engine.connect() as b:
        await a.begin()
        ack_a = await a.run_sync(first("a", (1, 2), "node-a"))
        await b.begin()
        racing = asyncio.create_task(b.run_sync(first("b", (1,), "node-b")))
        await asyncio.sleep(0.3)
        assert not racing.done()  # waits on node a's event_live row
        await a.commit()
        ack_b = await asyncio.wait_for(racing, 10)
        await b.commit()
    assert (ack_a.placed, ack_b.placed) == (2, 1)
    assert await _log(platform, event) == [("a", 1, 1), ("a", 2, 2), ("b", 1, 3)]
