"""The shipped migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from tests.databases import test_settings
from trackside.config import Settings
from trackside.store import migrate
from trackside.store.db import create_engine
from trackside.store.models import Base


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
