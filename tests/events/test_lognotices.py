"""Notices that an event's log grew, over PostgreSQL's LISTEN/NOTIFY: sent on commit only, and
the listening connection made again when it drops (every processor catches up then)."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from sqlalchemy import make_url

from tests.databases import _truncate
from tests.events.test_ingest import batch, new_event
from trackside.events import ingest
from trackside.events.lognotices import LogNotices, notify, parse
from trackside.platform import Platform


@pytest.fixture
def database_url(postgres_url: str) -> str:
    asyncio.run(_truncate(postgres_url))
    return postgres_url


async def _until(check: object, timeout_s: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not check():  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_notices_come_on_commit_and_survive_a_dropped_connection(
    platform: Platform, database_url: str
) -> None:
    got: list[tuple[int, str | None]] = []
    gaps: list[int] = []
    notices = LogNotices(database_url, lambda e, n: got.append((e, n)), lambda: gaps.append(1))
    await notices.start()
    try:
        assert gaps == [1]
        async with platform.db_factory() as db:
            await notify(db, 7, "node-a")
            await db.rollback()  # nothing committed: nothing said
        async with platform.db_factory() as db:
            await notify(db, 8, "node-b")
            await db.commit()
        await _until(lambda: got == [(8, "node-b")])

        # The listening connection dies (a PostgreSQL restart, a network cut): made again.
        url = make_url(database_url)
        admin = await asyncpg.connect(host=url.host, port=url.port or 5432, user=url.username,
                                      database=url.database)  # fmt: skip
        try:
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()"
            )
        finally:
            await admin.close()
        await _until(lambda: len(gaps) == 2)
        async with platform.db_factory() as db:
            await notify(db, 9, "node-a")
            await db.commit()
        await _until(lambda: got[-1] == (9, "node-a"))
    finally:
        await notices.close()


async def test_an_append_tells_on_commit_only_when_it_placed_records(
    platform: Platform, database_url: str
) -> None:
    got: list[tuple[int, str | None]] = []
    notices = LogNotices(database_url, lambda e, n: got.append((e, n)), lambda: None)
    await notices.start()
    try:
        event = await new_event(platform)
        node = platform.event_locks.node
        async with platform.db_factory() as db:
            await ingest.append(db, platform.event_locks, event, "a", batch(2))  # a gap
            await ingest.append(db, platform.event_locks, event, "b", batch(1))
        await _until(lambda: got == [(event, node)])
        async with platform.db_factory() as db:
            await ingest.append(db, platform.event_locks, event, "a", batch(1))  # closes it
        await _until(lambda: got == [(event, node)] * 2)
    finally:
        await notices.close()


def test_a_foreign_payload_is_ignored() -> None:
    assert parse("12 node-1") == (12, "node-1")
    assert parse("12") == (12, None)
    assert parse("not an event") is None
