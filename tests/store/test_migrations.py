"""The shipped migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, bindparam, insert, select, text

from tests.databases import test_settings
from trackside.config import Settings
from trackside.store import migrate
from trackside.store.db import create_engine
from trackside.store.models import Base, Event, LogRecord, Organization, RelaySource


@pytest.fixture
def fresh_settings(tmp_path: Path, database_url: str | None) -> Settings:
    """An empty database: no template copy, no tables (PostgreSQL: schema dropped)."""
    if database_url is None:
        shutil.rmtree(tmp_path / "data")
    return test_settings(tmp_path / "data", database_url)


async def _drop_everything(settings: Settings) -> None:
    engine = create_engine(settings)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


async def test_migrations_match_the_models(fresh_settings: Settings) -> None:
    if not fresh_settings.is_sqlite:
        await _drop_everything(fresh_settings)
    engine = create_engine(fresh_settings)
    try:
        assert await migrate.current_revision(engine) is None
        assert await migrate.upgrade(engine) == migrate.head_revision()
        assert await migrate.upgrade(engine) == migrate.head_revision()  # twice is harmless

        def diff(connection):  # type: ignore[no-untyped-def]
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return compare_metadata(context, Base.metadata)

        async with engine.connect() as connection:
            assert await connection.run_sync(diff) == []
    finally:
        await engine.dispose()


async def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    settings = test_settings(tmp_path / "nested" / "data", None)
    engine = create_engine(settings)
    try:
        await migrate.upgrade(engine)
        async with engine.connect() as connection:
            assert (await connection.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
            assert (await connection.execute(text("PRAGMA foreign_keys"))).scalar() == 1
        assert (tmp_path / "nested" / "data" / "trackside.db").exists()
    finally:
        await engine.dispose()


async def test_0009_fills_the_stored_seq_from_the_log(fresh_settings: Settings) -> None:
    """A source with a gap open keeps its highest stored seq; one without, its acked seq."""
    if not fresh_settings.is_sqlite:
        await _drop_everything(fresh_settings)
    engine = create_engine(fresh_settings)

    def upgrade_to(revision: str) -> Callable[[Connection], None]:
        def run(connection: Connection) -> None:
            config = migrate.alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)

        return run

    when = datetime(2026, 6, 1, tzinfo=UTC)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(upgrade_to("0008"))
            await connection.execute(insert(Organization.__table__).values(id=1, name="Club"))
            await connection.execute(
                insert(Event.__table__).values(
                    id=1, organization_id=1, name="E", start_date=when, end_date=when
                )
            )
            new_source = text(
                "INSERT INTO relay_sources (event_id, source, acked_seq, last_seen_at) "
                "VALUES (1, :source, :acked, :seen)"  # stored_seq is not there yet
            ).bindparams(bindparam("seen", type_=RelaySource.__table__.c.last_seen_at.type))
            for source, acked in [("gap", 3), ("whole", 2), ("silent", 0)]:
                await connection.execute(
                    new_source, {"source": source, "acked": acked, "seen": when}
                )
            rows = [("gap", 1), ("gap", 2), ("gap", 3), ("gap", 5), ("whole", 1), ("whole", 2)]
            await connection.execute(
                insert(LogRecord.__table__),
                [
                    {"event_id": 1, "source": source, "seq": seq, "received_at_ms": 0}
                    | {"type": "rmonitor", "data": "", "stored_at": when, "position": None}
                    for source, seq in rows
                ],
            )
        await migrate.upgrade(engine)
        async with engine.connect() as connection:
            stored = await connection.execute(
                select(RelaySource.source, RelaySource.stored_seq).order_by(RelaySource.source)
            )
            assert stored.all() == [("gap", 5), ("silent", 0), ("whole", 2)]
    finally:
        await engine.dispose()
