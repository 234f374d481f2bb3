"""The SQLite writer (``store.writer``): a small transaction commits on the event loop when the
write lock is free, waits its turn in the writer's thread when it is not, and a large one
always goes to the thread; the loop's commits are checkpointed from the thread; a transaction
that raises leaves nothing behind on either plain ``sqlite3`` connection."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest

from trackside.store import writer as writer_module
from trackside.store.writer import SqliteWriter


@pytest.fixture
async def database(tmp_path: Path) -> Path:
    path = tmp_path / "writer.db"
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE laps (car TEXT, lap INTEGER)")
    return path


def insert(lap: int, threads: list[int]) -> object:
    def work(connection: sqlite3.Connection) -> int:
        threads.append(threading.get_ident())
        connection.execute("INSERT INTO laps VALUES ('12', ?)", (lap,))
        return lap

    return work


def laps(path: Path) -> list[int]:
    with sqlite3.connect(path) as db:
        return [row[0] for row in db.execute("SELECT lap FROM laps ORDER BY rowid")]


async def test_a_small_transaction_commits_on_the_loop(database: Path) -> None:
    writer = SqliteWriter(str(database))
    threads: list[int] = []
    try:
        assert await writer.run(insert(1, threads)) == 1
        assert await writer.run(insert(2, threads), small=False) == 2
    finally:
        await writer.close()
    assert threads[0] == threading.get_ident()  # the loop's own thread: no hop
    assert threads[1] != threading.get_ident()  # a large one: the writer's thread
    assert laps(database) == [1, 2]


async def test_a_held_write_lock_sends_it_to_the_thread_to_wait(database: Path) -> None:
    writer = SqliteWriter(str(database))
    other = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # another connection holds SQLite's write lock
    other.execute("INSERT INTO laps VALUES ('7', 0)")
    threads: list[int] = []
    try:
        pending = asyncio.ensure_future(writer.run(insert(1, threads)))
        await asyncio.sleep(0.2)
        assert not pending.done()  # waiting in the thread, not failed, not on the loop
        other.execute("COMMIT")
        assert await asyncio.wait_for(pending, 10) == 1
    finally:
        other.close()
        await writer.close()
    assert threads[-1] != threading.get_ident()
    assert laps(database) == [0, 1]  # after the lock's holder, nothing lost


async def test_the_loops_commits_are_checkpointed_from_the_thread(
    database: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writer_module, "CHECKPOINT_EVERY", 5)
    wal = database.with_name(database.name + "-wal")
    writer = SqliteWriter(str(database))
    threads: list[int] = []
    try:
        written = database.stat().st_mtime_ns
        for lap in range(4):
            await writer.run(insert(lap, threads))
        await asyncio.sleep(0.1)
        assert database.stat().st_mtime_ns == written  # all in the WAL: no checkpoint yet
        await writer.run(insert(4, threads))
        for _ in range(100):  # the checkpoint runs in the writer's thread
            if database.stat().st_mtime_ns != written:
                break
            await asyncio.sleep(0.02)
        assert database.stat().st_mtime_ns != written  # the WAL copied into the database
        assert wal.exists()
    finally:
        await writer.close()
    assert all(thread == threading.get_ident() for thread in threads)
    assert laps(database) == [0, 1, 2, 3, 4]


class Broken(Exception):
    pass


def insert_then_fail(lap: int, seen: list[tuple[object, ...]]) -> object:
    def work(connection: sqlite3.Connection) -> int:
        connection.execute("INSERT INTO laps VALUES ('12', ?)", (lap,))
        seen.append(
            (
                connection.in_transaction,
                *(
                    connection.execute(f"PRAGMA {name}").fetchone()[0]
                    for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
                ),
            )
        )
        raise Broken

    return work


def insert_elsewhere(connection: sqlite3.Connection) -> None:
    connection.execute("INSERT INTO laps VALUES ('12', 0)")
    connection.execute("INSERT INTO nowhere VALUES (1)")


@pytest.mark.parametrize("small", [True, False])
async def test_a_failed_transaction_rolls_back_and_the_next_one_commits(
    database: Path, small: bool
) -> None:
    writer = SqliteWriter(str(database))
    seen: list[tuple[object, ...]] = []
    threads: list[int] = []
    try:
        with pytest.raises(Broken):
            await writer.run(insert_then_fail(1, seen), small=small)
        assert laps(database) == []  # rolled back, and the write lock let go:
        other = sqlite3.connect(database, isolation_level=None, timeout=0)
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        other.close()
        assert await writer.run(insert(2, threads), small=small) == 2
        # SQLite's own error (not a lock) reaches the caller; the connection goes on.
        with pytest.raises(sqlite3.OperationalError, match="no such table"):
            await writer.run(insert_elsewhere, small=small)
        assert await writer.run(insert(3, threads), small=small) == 3
    finally:
        await writer.close()
    assert laps(database) == [2, 3]
    # In its transaction, with the pragmas of every connection; the loop's never waits.
    assert seen == [(True, "wal", 1, 1, 0 if small else 30_000)]
