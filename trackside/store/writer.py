"""A short write transaction on SQLite without a hop per statement, and mostly without one at
all.

Through aiosqlite every statement, the BEGIN and the COMMIT are each a hop to the connection's
thread and back to the event loop. A transaction that needs no await between its statements
(the relay's append) runs here instead as one plain function over a synchronous connection to
the same file. A small one runs right on the event loop's thread, on a connection of its own
that never waits for SQLite's write lock: committing a few rows in WAL mode takes less than
handing them to a thread and being woken again. If another connection holds the lock, or the
transaction is large, it runs on the writer's own thread and connection instead (one hop),
which waits for the lock (``busy_timeout``) like every other.

Both connections have the pragmas of every other (``store.db``) and begin with ``BEGIN
IMMEDIATE``: they take the write lock before their first read, so what they read cannot change
before they write. The loop's connection never checkpoints the WAL itself (that can mean an
fsync); every ``CHECKPOINT_EVERY`` of its commits the writer's thread does (``PASSIVE``: it
waits for no one).
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import StaticPool

from trackside.store.db import sqlite_pragmas

T = TypeVar("T")

CHECKPOINT_EVERY = 500  # commits on the loop's connection between checkpoints


class SqliteWriter:
    """``run(fn)`` commits what ``fn(connection)`` wrote, on the loop if it can, else in the
    writer's thread."""

    def __init__(self, database: str) -> None:
        self._engine = _engine(database)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")
        self._connection: Connection | None = None
        self._now_engine = _engine(database, on_loop=True)
        self._now_connection: Connection | None = None
        self._commits = 0  # on the loop's connection since the last checkpoint
        self._checkpoint: asyncio.Future[None] | None = None
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

    async def run(self, fn: Callable[[Connection], T], small: bool = True) -> T:
        """``fn`` in one transaction: committed if it returns, rolled back if it raises.
        ``small``: few enough rows to commit on the event loop's thread if the write lock is
        free at once (``fn`` may then be called twice: it must only write through the
        connection)."""
        if small and not self._closed.is_set():
            try:
                result = self._transaction_now(fn)
            except OperationalError as exc:
                if not _locked(exc):
                    raise
            else:
                self._committed_now()
                return result
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, self._transaction, fn)

    def _transaction_now(self, fn: Callable[[Connection], T]) -> T:
        connection = self._now_connection
        if connection is None or connection.invalidated:
            connection = self._now_connection = self._now_engine.connect()
        with connection.begin():
            return fn(connection)

    def _committed_now(self) -> None:
        self._commits += 1
        if self._commits >= CHECKPOINT_EVERY and self._checkpoint is None:
            self._commits = 0
            loop = asyncio.get_running_loop()
            self._checkpoint = loop.run_in_executor(self._thread, self._wal_checkpoint)
            self._checkpoint.add_done_callback(self._checkpointed)

    def _checkpointed(self, done: asyncio.Future[None]) -> None:
        self._checkpoint = None
        if not done.cancelled():
            done.exception()  # a failed checkpoint is retried with the next one

    def _wal_checkpoint(self) -> None:
        if self._closed.is_set():
            return
        # On the driver's connection: through SQLAlchemy it would begin a transaction first
        # (and this one would hold the write lock).
        driver = self._connect().connection.driver_connection
        assert driver is not None
        driver.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def _transaction(self, fn: Callable[[Connection], T]) -> T:
        if self._closed.is_set():
            raise RuntimeError("the SQLite writer is closed")
        connection = self._connect()
        with connection.begin():
            return fn(connection)

    def _connect(self) -> Connection:
        connection = self._connection
        if connection is None or connection.invalidated:
            connection = self._connection = self._engine.connect()
        return connection

    async def close(self) -> None:
        if self._now_connection is not None:
            self._now_connection.close()
            self._now_connection = None
        self._now_engine.dispose()
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._thread, self._close)
        self._thread.shutdown(wait=True)

    def _close(self) -> None:
        self._closed.set()
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        self._engine.dispose()


def _locked(exc: OperationalError) -> bool:
    message = str(exc.orig).lower()
    return "locked" in message or "busy" in message


def _engine(database: str, on_loop: bool = False) -> Engine:
    # One connection, only ever used by one thread (the writer's, or the loop's).
    engine = create_engine(f"sqlite:///{database}", poolclass=StaticPool)
    event.listen(engine, "connect", _connect_on_loop if on_loop else _connect)
    event.listen(engine, "begin", _begin)
    return engine


def _connect(dbapi_connection: Any, record: Any) -> None:
    sqlite_pragmas(dbapi_connection, record)
    # The driver's own transaction handling would BEGIN (deferred) only at the first write.
    dbapi_connection.isolation_level = None


def _connect_on_loop(dbapi_connection: Any, record: Any) -> None:
    _connect(dbapi_connection, record)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=0")  # never wait on the loop: the thread will
    cursor.execute("PRAGMA wal_autocheckpoint=0")  # nor fsync there: see CHECKPOINT_EVERY
    cursor.close()


def _begin(connection: Connection) -> None:
    # On the driver's connection: through SQLAlchemy's execution this was a sixth of a small
    # append's CPU. A lock it cannot take raises as SQLAlchemy would (``_locked``).
    try:
        connection.connection.driver_connection.execute("BEGIN IMMEDIATE")  # type: ignore[union-attr]
    except sqlite3.OperationalError as exc:
        raise OperationalError("BEGIN IMMEDIATE", None, exc) from exc
