"""The engine and session factory: SQLite (WAL) by default, PostgreSQL by URL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from trackside.config import Settings


def sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the one writer; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def create_engine(settings: Settings) -> AsyncEngine:
    url = settings.resolved_database_url
    if url.startswith("sqlite"):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url)
        event.listen(engine.sync_engine, "connect", sqlite_pragmas)
        return engine
    _require_driver(url)
    return create_async_engine(url, pool_pre_ping=True)


class MissingDriver(RuntimeError):
    """The database URL names a driver that is not installed (an optional extra)."""


def _require_driver(url: str) -> None:
    """PostgreSQL's driver is an extra: say how to install it instead of a bare ImportError."""
    driver = make_url(url).get_driver_name()
    if driver != "asyncpg":
        return
    try:
        import asyncpg  # noqa: F401
    except ImportError:
        raise MissingDriver(
            "TRACKSIDE_DATABASE_URL names PostgreSQL (asyncpg), which is not installed: "
            "pip install 'trackside[postgres]'"
        ) from None


def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
