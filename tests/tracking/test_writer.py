"""The fix writer on both databases: fixes arriving together share one transaction, each sender
hears its own id, duplicates (in the batch or stored before) get the stored fix's id, and what
is stored reads back exactly as sent."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from trackside.accounts import people as accounts
from trackside.platform import Platform
from trackside.tracking.fixes import NewFix
from trackside.tracking.models import LocationFix
from trackside.tracking.writer import FixWriter

T0 = datetime(2025, 6, 1, 10, 0, 0, 123456, tzinfo=UTC)


async def _users(platform: Platform, count: int) -> list[int]:
    ids = []
    async with platform.db_factory() as db:
        for i in range(count):
            user = await accounts.create(
                platform, db, username=f"rider{i}", email=f"rider{i}@example.org",
                password="long enough password", verified=True,
            )  # fmt: skip
            ids.append(user.id)
        await db.commit()
    return ids


def _fix(user_id: int, seconds: int, **extra: object) -> NewFix:
    return NewFix(
        user_id=user_id, device_key="account", source="ws",
        time=T0 + timedelta(seconds=seconds), latitude=52.2297 + seconds / 1e4,
        longitude=21.0122, **extra,  # type: ignore[arg-type]
    )  # fmt: skip


async def test_a_burst_is_one_transaction_and_duplicates_get_the_stored_id(
    platform: Platform,
) -> None:
    users = await _users(platform, 3)
    writer = FixWriter(platform.db_factory, gather_s=0.05)
    try:
        burst = [_fix(user, s) for user in users for s in range(40)]
        burst.append(_fix(users[0], 5))  # the same device and time twice in one batch
        stored = await asyncio.gather(*(writer.write(fix) for fix in burst))
        assert writer.batches == 1
        assert writer.stored == 120
        assert len({s.id for s in stored}) == 120
        assert stored[-1].id == stored[5].id
        assert stored[-1].duplicate and not stored[5].duplicate

        # Resent later, beside new fixes: the old ones keep their ids, the new ones are stored.
        again = await writer.write_many([_fix(users[1], 7), _fix(users[1], 99, speed=4.5)])
        assert again[0].id == stored[40 + 7].id and again[0].duplicate
        assert not again[1].duplicate and again[1].id not in {s.id for s in stored}
        assert writer.stored == 121
    finally:
        await writer.close()

    async with platform.db_factory() as db:
        rows = (await db.scalars(select(LocationFix).order_by(LocationFix.id))).all()
    assert len(rows) == 121
    last = rows[-1]
    assert (last.user_id, last.time, last.speed, last.latitude) == (
        users[1], T0 + timedelta(seconds=99), 4.5, 52.2297 + 99 / 1e4,
    )  # fmt: skip


async def test_a_fix_of_a_deleted_account_fails_alone(platform: Platform) -> None:
    users = await _users(platform, 2)
    writer = FixWriter(platform.db_factory, gather_s=0.05)
    try:
        results = await asyncio.gather(
            writer.write(_fix(users[0], 1)),
            writer.write(_fix(10_000_000, 1)),  # no such account: the foreign key refuses it
            writer.write(_fix(users[1], 1, attributes={"tid": "R1"})),
            return_exceptions=True,
        )
    finally:
        await writer.close()
    assert isinstance(results[1], Exception)
    assert not isinstance(results[0], Exception) and not isinstance(results[2], Exception)
    async with platform.db_factory() as db:
        rows = (await db.execute(select(LocationFix.user_id, LocationFix.attributes))).all()
    assert sorted(rows) == sorted([(users[0], None), (users[1], '{"tid":"R1"}')])


async def test_a_dropped_connection_is_replaced(
    platform: Platform, database_url: str | None
) -> None:
    """The writer holds one connection; when the database drops it (a restart), the next batch
    goes through on a new one instead of failing its senders."""
    if database_url is None:
        pytest.skip("SQLite has no server to drop a connection")
    users = await _users(platform, 1)
    writer = FixWriter(platform.db_factory)
    try:
        first = await writer.write(_fix(users[0], 1))
        async with platform.engine.connect() as admin:
            dropped = await admin.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    " AND backend_type = 'client backend'"
                )
            )
        assert dropped >= 1
        second = await writer.write(_fix(users[0], 2))
        assert second.id != first.id and not second.duplicate
    finally:
        await writer.close()
