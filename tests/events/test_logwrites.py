"""The append's plain SQL on SQLite (the writer's ``sqlite3`` connection) writes exactly what
its Core statements write (in a caller's transaction): the same batches through both, into two
copies of one database, stored alike to the byte and read back alike through the ORM."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from tests.databases import test_settings
from tests.events.test_ingest import new_event
from trackside.events import ingest
from trackside.events.ingest import IncomingRecord
from trackside.events.racelog import EventLive, LogRecord, RelaySource
from trackside.platform import Platform

TABLES = (LogRecord, RelaySource, EventLive)


def records(*seqs: int) -> list[IncomingRecord]:
    return [IncomingRecord(seq, 5_000 + 7 * seq, "p3", f"frame {seq} é") for seq in seqs]


# (source, records, when the batch arrives): every way an append goes.
BATCHES = [
    ("a", records(1, 2, 3), datetime(2026, 6, 1, 12, 0, 0, 123456, tzinfo=UTC)),  # fresh event
    ("b", records(1), datetime(2026, 6, 1, 12, 0, 1, tzinfo=UTC)),  # a new source
    ("a", records(6, 7), datetime(2026, 6, 1, 12, 0, 2, 5, tzinfo=UTC)),  # a gap opens
    # Stored and duplicates, in and beyond the run; the gap stays open; another zone's clock.
    (
        "a",
        records(5, 6, 3, 3, 9),
        datetime(2026, 6, 1, 14, 0, 3, tzinfo=timezone(timedelta(hours=2))),
    ),
    ("a", records(4), datetime(2026, 6, 1, 12, 0, 4, 999999, tzinfo=UTC)),  # closes it (5..7)
    ("a", records(2, 1), datetime(2026, 6, 1, 12, 0, 5, tzinfo=UTC)),  # duplicates only
    # Big batches (on the writer's thread): past a stored record, a new source with repeats.
    ("a", records(*range(8, 8 + ingest.MAX_BATCH)), datetime(2026, 6, 1, 12, 0, 6, tzinfo=UTC)),
    ("c", records(*range(1, 501), *range(400, 900)), datetime(2026, 6, 1, 12, 0, 7, tzinfo=UTC)),
    ("c", records(*range(950, 1000)), datetime(2026, 6, 1, 12, 0, 8, tzinfo=UTC)),  # a gap
]


async def _platform(template: Path, data_dir: Path) -> Platform:
    data_dir.mkdir()
    shutil.copy(template, data_dir / "trackside.db")
    return await Platform.start(test_settings(data_dir, None))


@pytest.fixture
async def pair(sqlite_template: Path, tmp_path: Path) -> AsyncIterator[tuple[Platform, Platform]]:
    core = await _platform(sqlite_template, tmp_path / "core")
    try:
        plain = await _platform(sqlite_template, tmp_path / "plain")
        try:
            yield core, plain
        finally:
            await plain.close()
    finally:
        await core.close()


async def _plain(
    platform: Platform, event_id: int, source: str, batch: list[IncomingRecord], now: datetime
) -> ingest.Ack:
    """As the writer runs an append: plain SQL on its ``sqlite3`` connection."""
    writer = platform.event_locks.writer
    assert writer is not None
    work = partial(ingest._append_plain, event_id, source, batch, "node", now)
    return await writer.run(work, small=len(batch) <= ingest.ON_LOOP_RECORDS)


async def _core(
    platform: Platform, event_id: int, source: str, batch: list[IncomingRecord], now: datetime
) -> ingest.Ack:
    """As an append in a caller's transaction runs: Core on the async engine's connection."""
    async with platform.db_factory() as db:
        connection = await db.connection()
        work = partial(ingest._append_core, event_id, source, batch, "node", now)
        ack = await connection.run_sync(work)
        await db.commit()
        return ack


async def _stored(platform: Platform) -> dict[str, list[Any]]:
    """Every column as SQLite holds it (its storage class and literal), and as the ORM reads it."""
    found: dict[str, list[Any]] = {}
    async with platform.db_factory() as db:
        for model in TABLES:
            table = model.__table__
            columns = ", ".join(f"typeof({c.name}), quote({c.name})" for c in table.columns)
            order = ", ".join(c.name for c in table.primary_key.columns)
            raw = await db.execute(text(f"SELECT {columns} FROM {table.name} ORDER BY {order}"))
            found[table.name] = [tuple(row) for row in raw.all()]
            rows = (await db.scalars(select(model).order_by(*table.primary_key.columns))).all()
            found[f"orm {table.name}"] = [
                {c.key: getattr(row, c.key) for c in table.columns} for row in rows
            ]
    return found


async def test_plain_sql_stores_what_core_stores(pair: tuple[Platform, Platform]) -> None:
    core, plain = pair
    event = await new_event(core)
    assert await new_event(plain) == event
    for source, batch, now in BATCHES:
        expected = await _core(core, event, source, batch, now)
        ack = await _plain(plain, event, source, batch, now)
        assert ack == expected
        assert await _stored(plain) == await _stored(core)

    stored = await _stored(plain)
    assert len(stored["event_log"]) == 3 + 1 + 2 + 2 + 1 + (ingest.MAX_BATCH - 1) + 899 + 50
    last = BATCHES[-1][2]
    (live,) = stored["orm event_live"]
    assert live["last_record_at"] == last and live["last_record_at"].tzinfo is not None
    assert live["live"] is False
    seen = {row["source"]: row["last_seen_at"] for row in stored["orm relay_sources"]}
    assert seen == {"a": BATCHES[6][2], "b": BATCHES[1][2], "c": last}
    # The instants as SQLAlchemy's SQLite DATETIME writes them: text, in UTC, microseconds.
    assert stored["relay_sources"][0][-2:] == ("text", "'2026-06-01 12:00:06.000000'")
    when = {row["seq"]: row["stored_at"] for row in stored["orm event_log"] if row["source"] == "a"}
    assert when[5] == datetime(2026, 6, 1, 12, 0, 3, tzinfo=UTC) and when[4] == BATCHES[4][2]
