"""The relay's on-disk queue: every record is numbered and stored here before anything else.

One SQLite file holds, per source, the records in sequence order, the last sequence number
handed out, the server's last acknowledgement and the source's read cursor (a file follower's
offset). A record and the cursor that follows it are written in one transaction, so a crash at
any point leaves either both or neither: after a restart no line is read twice or skipped, and
no sequence number is reused.

Durability: WAL journal with ``synchronous=FULL``, i.e. an fsync of the WAL at every commit.
``NORMAL`` would survive a killed process (the commit is in the OS cache) but not a power cut,
which is a real risk in a timing trailer on a generator. Losing the last commits would be worse
than losing their records: the uploader may already have sent them, so after the reboot the
same sequence numbers would be handed to *new* records and the server, having stored those
numbers, would drop the new records as duplicates. With FULL a number is on disk before it can
be uploaded. The cost is one fsync per read chunk (a chunk's records share a commit), which
at RMonitor and decoder rates is a few per second.

Acknowledged records are kept (a race day of RMonitor is a few MB), so that a server that lost
data and acknowledges less than before gets everything again.

One process at a time: an exclusive ``flock`` on ``<queue>.lock`` makes a second relay on the
same queue fail at start instead of numbering records twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import sqlite3
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sources (
    name TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    last_seq INTEGER NOT NULL DEFAULT 0,
    acked_seq INTEGER NOT NULL DEFAULT 0,
    cursor TEXT
);
CREATE TABLE IF NOT EXISTS records (
    source TEXT NOT NULL,
    seq INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (source, seq)
) WITHOUT ROWID;
"""


class QueueError(RuntimeError):
    """The queue cannot be used as asked (locked by another relay, a source changed kind)."""


@dataclass(frozen=True, slots=True)
class QueuedRecord:
    seq: int
    received_at: int
    data: str


@dataclass(frozen=True, slots=True)
class SourceState:
    name: str
    kind: str
    last_seq: int
    acked_seq: int
    cursor: str | None


class RelayQueue:
    """Synchronous access to the queue file; see ``AsyncRelayQueue`` for use in the event loop."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._lock_fd = os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise QueueError(f"cannot open the queue {self.path}: {exc.strerror}") from None
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._lock_fd)
            raise QueueError(f"{self.path} is in use by another relay") from None
        try:
            # isolation_level=None: transactions are explicit (BEGIN IMMEDIATE … COMMIT).
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            os.close(self._lock_fd)
            raise QueueError(f"cannot open the queue {self.path}: {exc}") from None

    def close(self) -> None:
        self._db.close()
        os.close(self._lock_fd)

    def _write(self, sql: str, *params: Any) -> None:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.execute(sql, params)
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def register(self, name: str, kind: str) -> SourceState:
        """Create the source if new; a known name must keep its kind (its records' type)."""
        state = self.state(name)
        if state is None:
            self._write("INSERT INTO sources (name, kind) VALUES (?, ?)", name, kind)
            state = SourceState(name, kind, 0, 0, None)
        elif state.kind != kind:
            raise QueueError(f"source {name!r} holds {state.kind} records, not {kind}")
        return state

    def state(self, name: str) -> SourceState | None:
        row = self._db.execute(
            "SELECT name, kind, last_seq, acked_seq, cursor FROM sources WHERE name = ?", (name,)
        ).fetchone()
        return SourceState(*row) if row else None

    def append(
        self, name: str, received_at: int, items: Sequence[str], cursor: str | None = None
    ) -> int:
        """Number and store ``items`` (and the source's new cursor) atomically; the last seq."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            row = db.execute("SELECT last_seq FROM sources WHERE name = ?", (name,)).fetchone()
            if row is None:
                raise QueueError(f"unknown source {name!r}")
            first = row[0] + 1
            db.executemany(
                "INSERT INTO records (source, seq, received_at, data) VALUES (?, ?, ?, ?)",
                [(name, first + i, received_at, item) for i, item in enumerate(items)],
            )
            last = first + len(items) - 1
            if cursor is None:
                db.execute("UPDATE sources SET last_seq = ? WHERE name = ?", (last, name))
            else:
                db.execute(
                    "UPDATE sources SET last_seq = ?, cursor = ? WHERE name = ?",
                    (last, cursor, name),
                )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return last

    def batch(self, name: str, after: int, limit: int) -> list[QueuedRecord]:
        """Up to ``limit`` records with seq > ``after``, in order."""
        rows = self._db.execute(
            "SELECT seq, received_at, data FROM records WHERE source = ? AND seq > ? "
            "ORDER BY seq LIMIT ?",
            (name, after, limit),
        ).fetchall()
        return [QueuedRecord(*row) for row in rows]

    def mark_acked(self, name: str, seq: int) -> None:
        """Remember the server's acknowledgement (it may go down if the server lost data)."""
        self._write("UPDATE sources SET acked_seq = ? WHERE name = ?", seq, name)

    def rebase(self, name: str, server_acked: int) -> int:
        """Renumber the unacknowledged records to follow ``server_acked``; how many moved.

        For a server that acknowledges more than this queue ever numbered (the queue file was
        replaced or lost): without this the server would drop the next records as duplicates of
        numbers it already holds. Records at or below the local acknowledgement keep theirs.
        """
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            last, acked = db.execute(
                "SELECT last_seq, acked_seq FROM sources WHERE name = ?", (name,)
            ).fetchone()
            if server_acked <= last:
                db.execute("ROLLBACK")
                return 0
            shift = server_acked - acked
            # Every new number is above server_acked > last: no collision with existing rows.
            moved = db.execute(
                "UPDATE records SET seq = seq + ? WHERE source = ? AND seq > ?",
                (shift, name, acked),
            ).rowcount
            db.execute(
                "UPDATE sources SET last_seq = ?, acked_seq = ? WHERE name = ?",
                (last + shift, server_acked, name),
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return moved


class AsyncRelayQueue:
    """The queue for the event loop: every call runs on one worker thread, in call order.

    One thread keeps SQLite's fsyncs off the loop and serializes access to the connection.
    ``wait`` lets an uploader sleep until a source has new records.
    """

    def __init__(self, queue: RelayQueue) -> None:
        self.sync = queue
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="relay-queue")
        self._changed: dict[str, asyncio.Event] = {}

    async def _run(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    def _event(self, name: str) -> asyncio.Event:
        return self._changed.setdefault(name, asyncio.Event())

    async def register(self, name: str, kind: str) -> SourceState:
        state: SourceState = await self._run(self.sync.register, name, kind)
        return state

    async def state(self, name: str) -> SourceState:
        state: SourceState | None = await self._run(self.sync.state, name)
        if state is None:
            raise QueueError(f"unknown source {name!r}")
        return state

    async def append(
        self, name: str, received_at: int, items: Sequence[str], cursor: str | None = None
    ) -> int:
        last: int = await self._run(self.sync.append, name, received_at, items, cursor)
        self._event(name).set()
        return last

    async def batch(self, name: str, after: int, limit: int) -> list[QueuedRecord]:
        """Like ``RelayQueue.batch``; arms ``wait`` first so no append can slip between."""
        self._event(name).clear()
        records: list[QueuedRecord] = await self._run(self.sync.batch, name, after, limit)
        return records

    async def wait(self, name: str, timeout: float) -> None:
        """Return when ``name`` has records appended since the last ``batch``, or at timeout."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event(name).wait(), timeout)

    async def mark_acked(self, name: str, seq: int) -> None:
        await self._run(self.sync.mark_acked, name, seq)

    async def rebase(self, name: str, server_acked: int) -> int:
        moved: int = await self._run(self.sync.rebase, name, server_acked)
        return moved

    async def close(self) -> None:
        await self._run(self.sync.close)
        self._pool.shutdown(wait=True)
