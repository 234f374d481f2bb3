"""A short write transaction on SQLite in one hop to a thread, instead of one per statement.

Through aiosqlite every statement, the BEGIN and the COMMIT are each a hop to the connection's
thread and back to the event loop. A transaction that needs no await between its statements
(the relay's append) runs here instead as one plain function over one synchronous connection
to the same file, in one dedicated thread: one hop for the whole transaction.

The connection has the pragmas of every other (``store.db``) and begins with ``BEGIN
IMMEDIATE``: it takes SQLite's one write lock before its first read, so what it reads cannot
change before it writes, and it waits (``busy_timeout``) for a writer on the async engine like
they wait for it. It never waits on the event loop while it holds the lock.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.pool import StaticPool

from trackside.store.db import sqlite_pragmas

T = TypeVar("T")


class SqliteWriter:
    """One connection, one thread; ``run(fn)`` commits what ``fn(connection)`` wrote."""

    def __init__(self, database: str) -> None:
        self._engine = _engine(database)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")
        self._connection: Connection | None = None
        self._closed = threading.Event()

    @classmethod
    def for_url(cls, url: str) -> SqliteWriter | None:
        """A writer for a SQLite file; None for PostgreSQL or an in-memory database (which
        another connection would not see)."""
        parsed = make_url(url)
        if parsed.get_backend_name() != "sqlite":
            return None
        if not parsed.database or parsed.database == ":memory:" or "mode=memory" in url:
            return None
        return cls(parsed.database)

    async def run(self, fn: Callable[[Connection], T]) -> T:
        """``fn`` in one transaction in the writer's thread: committed if it returns, rolled
        back if it raises."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, self._transaction, fn)

    def _transaction(self, fn: Callable[[Connection], T]) -> T:
        if self._closed.is_set():
            raise RuntimeError("the SQLite writer is closed")
        connection = self._connection
        if connection is None or connection.invalidated:
            connection = self._connection = self._engine.connect()
        with connection.begin():
            return fn(connection)

    async def close(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._thread, self._close)
        self._thread.shutdown(wait=True)

    def _close(self) -> None:
        self._closed.set()
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        self._engine.dispose()


def _engine(database: str) -> Engine:
    # One connection, only ever used by the writer's thread.
    engine = create_engine(f"sqlite:///{database}", poolclass=StaticPool)
    event.listen(engine, "connect", _connect)
    event.listen(engine, "begin", _begin)
    return engine


def _connect(dbapi_connection: Any, record: Any) -> None:
    sqlite_pragmas(dbapi_connection, record)
    # The driver's own transaction handling would BEGIN (deferred) only at the first write.
    dbapi_connection.isolation_level = None


def _begin(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")
