"""The fix writer: every fix from every protocol goes through one queue, written in batches.

A thousand devices at one fix a second would be a thousand commits a second one by one; here a
single task takes whatever is waiting (up to ``max_batch``, after waiting ``gather_s`` for more
to come) and stores it in one transaction on a connection of its own, then tells each sender
its fix is stored (its id), and the listeners (the live map, checkpoint detection) what was new.
A fix whose device and device time are already stored is not stored again: its sender gets the
stored fix's id.

Each transaction costs far more than a fix in it (a commit, on PostgreSQL an fsync, on SQLite
a few hops to its thread and WAL pages written again): a few milliseconds of gathering turn a
thousand fixes a second into tens of transactions instead of hundreds.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import insert, select
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from trackside.tracking.fixes import NewFix
from trackside.tracking.models import LocationFix

log = logging.getLogger("trackside.tracking")

KEY_COLUMNS = ("user_id", "device_key", "time")


@dataclass(frozen=True, slots=True)
class Stored:
    id: int
    fix: NewFix
    duplicate: bool


Listener = Callable[[list[Stored]], Awaitable[None]]


class WriterClosed(RuntimeError):
    """The server is stopping: the fix was not taken."""


class FixWriter:
    def __init__(
        self,
        db_factory: async_sessionmaker[AsyncSession],
        *,
        max_batch: int = 500,
        gather_s: float = 0.0,
    ) -> None:
        self._db_factory = db_factory
        self._engine: AsyncEngine = db_factory.kw["bind"]
        self._connection: AsyncConnection | None = None
        self.max_batch = max_batch
        self.gather_s = gather_s
        self._queue: asyncio.Queue[tuple[NewFix, asyncio.Future[Stored]]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._fresh: asyncio.Queue[list[Stored]] = asyncio.Queue()
        self._notifier: asyncio.Task[None] | None = None
        self._notifying = False
        self._closed = False
        self._writing = False  # a batch taken from the queue is not stored yet
        self.listeners: list[Listener] = []
        self.batches = 0  # transactions committed (the benchmark reports fixes per batch)
        self.stored = 0

    async def write(self, fix: NewFix) -> Stored:
        """Queue the fix; return once it is committed (or found stored already)."""
        return await self._put(fix)

    async def write_many(self, fixes: Sequence[NewFix]) -> list[Stored]:
        """Queue the fixes; return once they are committed (or found stored already)."""
        return list(await asyncio.gather(*[self._put(fix) for fix in fixes]))

    def _put(self, fix: NewFix) -> asyncio.Future[Stored]:
        if self._closed:
            raise WriterClosed("the server is stopping")
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="tracking-fix-writer")
        future: asyncio.Future[Stored] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((fix, future))
        return future

    async def close(self) -> None:
        self._closed = True
        if self._task is not None:
            # Let what is queued be written, then stop.
            while (not self._queue.empty() or self._writing) and not self._task.done():
                await asyncio.sleep(0.01)
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._notifier is not None:
            while not self._fresh.empty() and not self._notifier.done():
                await asyncio.sleep(0.01)
            self._notifier.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._notifier
        await self._disconnect()

    async def _disconnect(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):  # gone already: nothing to give back
                await connection.close()

    async def _run(self) -> None:
        while True:
            first = await self._queue.get()
            self._writing = True
            if self.gather_s > 0 and self._queue.qsize() < self.max_batch - 1:
                await asyncio.sleep(self.gather_s)  # more fixes per transaction
            batch = [first]
            while len(batch) < self.max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                results = await self._store([fix for fix, _ in batch])
            except Exception as exc:  # the database is away: each sender hears it
                log.exception("could not store %d fixes", len(batch))
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            finally:
                self._writing = False
            fresh = []
            for (_, future), result in zip(batch, results, strict=True):
                if isinstance(result, Exception):
                    if not future.done():
                        future.set_exception(result)
                    continue
                if not future.done():
                    future.set_result(result)
                if not result.duplicate:
                    fresh.append(result)
            if fresh and self.listeners:
                # The listeners (map, checkpoints) run beside the writer, not in its way.
                self._fresh.put_nowait(fresh)
                if self._notifier is None:
                    self._notifier = asyncio.create_task(self._notify(), name="tracking-notify")

    async def _notify(self) -> None:
        while True:
            fresh = await self._fresh.get()
            self._notifying = True
            while not self._fresh.empty():
                fresh = fresh + self._fresh.get_nowait()
            for listener in self.listeners:
                try:
                    await listener(fresh)
                except Exception:
                    log.exception("a tracking listener failed on %d fixes", len(fresh))
            self._notifying = self._fresh.qsize() > 0

    async def settled(self) -> None:
        """Wait until every queued fix is written and the listeners have seen it."""
        while (
            not self._queue.empty() or self._writing or not self._fresh.empty() or self._notifying
        ):
            await asyncio.sleep(0.005)

    async def _store(self, fixes: list[NewFix]) -> Sequence[Stored | Exception]:
        fresh: dict[tuple, NewFix] = {}
        for fix in fixes:
            fresh.setdefault(fix.key, fix)
        try:
            try:
                ids, known = await self._insert(fresh)
            except DBAPIError as exc:
                if isinstance(exc, IntegrityError) or not exc.connection_invalidated:
                    raise
                # The held connection was dropped (a database restart, an idle timeout): once
                # more on a new one. Idempotent: what did get stored comes back as stored.
                await self._disconnect()
                ids, known = await self._insert(fresh)
        except IntegrityError:  # not a duplicate (e.g. an account deleted meanwhile)
            return await self._store_one_by_one(fixes)
        except Exception:
            await self._disconnect()  # the database went away: connect afresh next time
            raise
        self.batches += 1
        self.stored += len(ids)
        first_seen: set[tuple] = set()
        results: list[Stored | Exception] = []
        for fix in fixes:
            if fix.key in known:
                results.append(Stored(known[fix.key], fix, True))
            else:
                results.append(Stored(ids[fix.key], fix, fix.key in first_seen))
                first_seen.add(fix.key)
        return results

    async def _insert(
        self, fresh: dict[tuple, NewFix]
    ) -> tuple[dict[tuple, int], dict[tuple, int]]:
        """One transaction: the ids of the fixes inserted, and of those stored before."""
        if self._connection is None:
            self._connection = await self._engine.connect()
        async with self._connection.begin():  # committed at the end, or rolled back
            ids = await _insert_new(self._connection, list(fresh.values()))
            # Not inserted: stored already (a resent fix, or another node got it first).
            missing = [f for k, f in fresh.items() if k not in ids]
            known = await _stored_ids(self._connection, missing)
            if len(ids) + len(known) < len(fresh):  # one deleted meanwhile (a prune)
                raise IntegrityError("a fix neither inserted nor found", None, ValueError())
        return ids, known

    async def _store_one_by_one(self, fixes: list[NewFix]) -> list[Stored | Exception]:
        """Each fix in a transaction of its own: the one the database refuses fails alone."""
        results: list[Stored | Exception] = []
        for fix in fixes:
            async with self._db_factory() as db:
                known = await _stored_ids(db, [fix])
                if fix.key in known:
                    results.append(Stored(known[fix.key], fix, True))
                    continue
                try:
                    row_id = await db.scalar(
                        insert(LocationFix).values(**_values(fix)).returning(LocationFix.id)
                    )
                    await db.commit()
                except IntegrityError as exc:
                    await db.rollback()
                    known = await _stored_ids(db, [fix])
                    results.append(Stored(known[fix.key], fix, True) if known else exc)
                    continue
                self.batches += 1
                self.stored += 1
                results.append(Stored(int(row_id), fix, False))
        return results


ROWS_PER_STATEMENT = 500  # 14 parameters a row: far below SQLite's and asyncpg's limits


class _Insert:
    """``INSERT … VALUES (…), (…) ON CONFLICT DO NOTHING RETURNING`` for one database, as
    plain SQL with the columns' own bind processors.

    A multi-row insert built with SQLAlchemy's expressions is compiled afresh each batch (a
    bind parameter object per value: ~0.3 ms of CPU a fix), and its ordered bulk insert runs
    one statement per row on SQLite; a query for the duplicates first would cost a second round
    trip every batch to find none.
    """

    _made: dict[str, _Insert] = {}

    def __init__(self, dialect: Dialect) -> None:
        table = LocationFix.__table__
        columns = [table.c[name] for name in COLUMNS]
        self.processors = [c.type.dialect_impl(dialect).bind_processor(dialect) for c in columns]
        self.dollar = dialect.paramstyle == "numeric_dollar"
        if dialect.paramstyle not in ("qmark", "numeric_dollar"):
            raise NotImplementedError(f"paramstyle {dialect.paramstyle}")
        key = ", ".join(KEY_COLUMNS)
        self.head = f"INSERT INTO {table.name} ({', '.join(COLUMNS)}) VALUES "
        self.tail = f" ON CONFLICT ({key}) DO NOTHING RETURNING id, {key}"
        self._sql: dict[int, str] = {}

    @classmethod
    def of(cls, dialect: Dialect) -> _Insert:
        made = cls._made.get(dialect.name)
        if made is None:
            made = cls._made[dialect.name] = cls(dialect)
        return made

    def sql(self, rows: int) -> str:
        text = self._sql.get(rows)
        if text is None:
            width = len(COLUMNS)
            if self.dollar:
                groups = (
                    "(" + ", ".join(f"${row * width + i + 1}" for i in range(width)) + ")"
                    for row in range(rows)
                )
            else:
                groups = ("(" + ", ".join("?" * width) + ")" for _ in range(rows))
            text = self._sql[rows] = self.head + ", ".join(groups) + self.tail
        return text

    def parameters(self, fixes: list[NewFix]) -> tuple[list[object], list[tuple]]:
        """The flat parameters, and each fix's key as the database will return it."""
        flat: list[object] = []
        keys = []
        for fix in fixes:
            values = _row(fix)
            for i, process in enumerate(self.processors):
                if process is not None and values[i] is not None:
                    values[i] = process(values[i])
            flat.extend(values)
            keys.append((values[0], values[1], values[3]))  # user_id, device_key, time
        return flat, keys


async def _insert_new(connection: AsyncConnection, fixes: list[NewFix]) -> dict[tuple, int]:
    """Insert the fixes not stored yet, a few hundred rows per statement; their ids by key."""
    insert_ = _Insert.of(connection.dialect)
    ids: dict[tuple, int] = {}
    for start in range(0, len(fixes), ROWS_PER_STATEMENT):
        chunk = fixes[start : start + ROWS_PER_STATEMENT]
        parameters, keys = insert_.parameters(chunk)
        result = await connection.exec_driver_sql(insert_.sql(len(chunk)), tuple(parameters))
        returned = {(user, device, time): id_ for id_, user, device, time in result.all()}
        for fix, key in zip(chunk, keys, strict=True):
            if key in returned:
                ids[fix.key] = returned[key]
    return ids


async def _stored_ids(db: AsyncSession | AsyncConnection, fixes: list[NewFix]) -> dict[tuple, int]:
    """The ids of the fixes already stored, by (user, device, device time)."""
    if not fixes:
        return {}
    users = {fix.user_id for fix in fixes}
    times = {fix.time for fix in fixes}
    rows = await db.execute(
        select(LocationFix.id, LocationFix.user_id, LocationFix.device_key, LocationFix.time)
        .where(LocationFix.user_id.in_(users))
        .where(LocationFix.time.in_(times))
    )
    return {(user, device, time): id_ for id_, user, device, time in rows.all()}


COLUMNS = [
    "user_id", "device_key", "source", "time", "received_at", "latitude", "longitude",
    "accuracy", "altitude", "speed", "heading", "battery", "event_id", "attributes",
]  # fmt: skip


def _row(fix: NewFix) -> list[object]:
    """The fix's values in ``COLUMNS`` order."""
    return [
        fix.user_id, fix.device_key, fix.source, fix.time, fix.received_at, fix.latitude,
        fix.longitude, fix.accuracy, fix.altitude, fix.speed, fix.heading, fix.battery,
        fix.event_id, _attributes(fix),
    ]  # fmt: skip


def _attributes(fix: NewFix) -> str | None:
    return json.dumps(fix.attributes, separators=(",", ":")) if fix.attributes else None


def _values(fix: NewFix) -> dict[str, object]:
    return {
        "user_id": fix.user_id,
        "device_key": fix.device_key,
        "source": fix.source,
        "time": fix.time,
        "received_at": fix.received_at,
        "latitude": fix.latitude,
        "longitude": fix.longitude,
        "accuracy": fix.accuracy,
        "altitude": fix.altitude,
        "speed": fix.speed,
        "heading": fix.heading,
        "battery": fix.battery,
        "event_id": fix.event_id,
        "attributes": _attributes(fix),
    }
