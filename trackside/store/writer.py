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

Both connections are plain ``sqlite3`` ones, with the pragmas of every other (``store.db``):
through SQLAlchemy, its ``begin()`` and commit cost ten times the SQL of a small append. A
transaction is ``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` if ``fn`` raises): it takes the
write lock before its first read, so what it reads cannot change before it writes. The loop's
connection never checkpoints the WAL itself (that can mean an fsync); every
``CHECKPOINT_EVERY`` of its commits the writer's thread does (``PASSIVE``: it waits for no
one).
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from sqlalchemy import make_url

from trackside.store.db import sqlite_pragmas

T = TypeVar("T")

CHECKPOINT_EVERY = 500  # commits on the loop's connection between checkpoints


class SqliteWriter:
    """``run(fn)`` commits what ``fn(connection)`` wrote, on the loop if it can, else in the
    writer's thread."""

    def __init__(self, database: str) -> None:
        self._database = database
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")
        self._connection: sqlite3.Connection | None = None  # the thread's
        self._now_connection: sqlite3.Connection | None = None  # the loop's
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

    async def run(self, fn: Callable[[sqlite3.Connection], T], small: bool = True) -> T:
        """``fn`` in one transaction: committed if it returns, rolled back if it raises.
        ``small``: few enough rows to commit on the event loop's thread if the write lock is
        free at once (``fn`` may then be called twice: it must only write through the
        connection)."""
        if small and not self._closed.is_set():
            if self._now_connection is None:
                self._now_connection = _connect(self._database, on_loop=True)
            try:
                result = _transaction(self._now_connection, fn)
            except sqlite3.OperationalError as exc:
                if not _locked(exc):
                    raise
            else:
                self._committed_now()
                return result
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, self._in_thread, fn)

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
        self._connect().execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def _in_thread(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._closed.is_set():
            raise RuntimeError("the SQLite writer is closed")
        return _transaction(self._connect(), fn)

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            self._connection = _connect(self._database)
        return self._connection

    async def close(self) -> None:
        if self._now_connection is not None:
            self._now_connection.close()
            self._now_connection = None
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._thread, self._close)
        self._thread.shutdown(wait=True)

    def _close(self) -> None:
        self._closed.set()
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def _transaction(connection: sqlite3.Connection, fn: Callable[[sqlite3.Connection], T]) -> T:
    connection.execute("BEGIN IMMEDIATE")  # a lock it cannot take raises: nothing began
    try:
        result = fn(connection)
        connection.execute("COMMIT")
    except BaseException:
        # A failed COMMIT (busy) leaves the transaction open too: the connection is reused.
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise
    return result


def _locked(exc: sqlite3.OperationalError) -> bool:
    message = str(exc).lower()
    return "locked" in message or "busy" in message


def _connect(database: str, on_loop: bool = False) -> sqlite3.Connection:
    # ``isolation_level=None``: the driver's own transaction handling would BEGIN (deferred)
    # only at the first write. Only ever used by one thread at a time (the writer's, or the
    # loop's; a platform may be closed from another thread than it wrote from).
    connection = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
    sqlite_pragmas(connection, None)
    if on_loop:
        connection.execute("PRAGMA busy_timeout=0")  # never wait on the loop: the thread will
        connection.execute("PRAGMA wal_autocheckpoint=0")  # nor fsync there: CHECKPOINT_EVERY
    return connection
