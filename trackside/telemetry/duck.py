"""The embedded store: DuckDB, one file, one batched writer.

Every (bucket, measurement, tag set, field) is a *column* with a small integer id, kept in a
``columns`` table and in memory; points are rows ``(column, time, value, text, kind)``. Writes
queue up and one task drains the queue, inserting everything waiting as one Arrow batch in one
transaction in a worker thread, so a burst of small requests costs one insert. Reads run in
worker threads on their own cursors; aggregation is SQL, grouped by time bucket on the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path

import duckdb
import pyarrow as pa

from trackside.feeds.linecolumns import Columns, Points
from trackside.feeds.lineprotocol import FieldValue, Point, Unsigned
from trackside.telemetry.store import MeasurementInfo, Selection, Series, StoreUnavailable

FLOAT, INTEGER, UNSIGNED, BOOLEAN, STRING = 0, 1, 2, 3, 4
MAX_BATCH_ROWS = 500_000

SCHEMA = """
CREATE TABLE IF NOT EXISTS columns (
    id INTEGER PRIMARY KEY,
    bucket VARCHAR NOT NULL,
    measurement VARCHAR NOT NULL,
    tags VARCHAR NOT NULL,
    field VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS points (
    cid INTEGER NOT NULL,
    time BIGINT NOT NULL,
    value DOUBLE,
    text VARCHAR,
    kind UTINYINT NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class Column:
    id: int
    bucket: str
    measurement: str
    tags: tuple[tuple[str, str], ...]
    field: str


KIND_OF_TYPE: dict[type, int] = {float: FLOAT, int: INTEGER, Unsigned: UNSIGNED, bool: BOOLEAN}


def _typed(value: float | None, text: str | None, kind: int) -> FieldValue | None:
    if kind == STRING:
        return text
    if value is None:
        return None
    if kind == BOOLEAN:
        return value != 0
    if kind in (INTEGER, UNSIGNED):
        return int(value)
    return value


Tags = tuple[tuple[str, str], ...]
ColumnId = Callable[[str, str, Tags, str], int]
ROWS = pa.schema(
    [("cid", pa.int32()), ("time", pa.int64()), ("value", pa.float64()),
     ("text", pa.string()), ("kind", pa.uint8())]
)  # fmt: skip


def _columns_table(bucket: str, columns: Columns, column_id: ColumnId) -> pa.Table:
    """Rows field by field, straight from the parsed columns: one Arrow array per field's
    values, the times shared, no Python object per point."""
    n = len(columns)
    times = pa.array(columns.times, pa.int64())
    texts = pa.nulls(n, pa.string())
    single = len(columns.series) == 1
    batches = []
    for index, (name, kind) in enumerate(columns.fields):
        ids = {
            key: column_id(bucket, measurement, tags, name)
            for key, (measurement, tags) in columns.series.items()
        }
        if single:
            cids = pa.repeat(pa.scalar(next(iter(ids.values())), pa.int32()), n)
        else:
            cids = pa.array(list(map(ids.__getitem__, columns.keys)), pa.int32())
        kinds = pa.repeat(pa.scalar(KIND_OF_TYPE[kind], pa.uint8()), n)
        values = pa.array(columns.doubles(index), pa.float64())
        batches.append(pa.RecordBatch.from_arrays([cids, times, values, texts, kinds], schema=ROWS))
    return pa.Table.from_batches(batches, schema=ROWS)


def _points_table(batch: list[tuple[str, list[Point]]], column_id: ColumnId) -> pa.Table:
    """Rows point by point, for points made one by one (the JSON routes, mixed bodies)."""
    cids: list[int] = []
    times: list[int] = []
    values: list[FieldValue] = []
    # (bucket, measurement, tags, field names) -> the columns' ids, for this batch
    layouts: dict[tuple[object, ...], tuple[int, ...]] = {}

    def column_ids(key: tuple[object, ...]) -> tuple[int, ...]:
        bucket, measurement, tags, *names = key
        layouts[key] = layout = tuple(column_id(bucket, measurement, tags, n) for n in names)  # type: ignore[arg-type]
        return layout

    # Whole-list comprehensions and C-level map()s, not a loop of small steps per point:
    # a 5,000-line batch of 8 fields is 40,000 values.
    for bucket, points in batch:
        keys = [(bucket, p.measurement, p.tags, *p.fields) for p in points]
        cids += [cid for key in keys for cid in (layouts.get(key) or column_ids(key))]
        times += [t for p in points for t in (p.time_ns,) * len(p.fields)]  # type: ignore[misc]
        values += [v for p in points for v in p.fields.values()]
    types = set(map(type, values))
    kinds = list(map(KIND_OF_TYPE.get, map(type, values), repeat(STRING)))
    if str in types or bool in types:
        texts = pa.array([v if type(v) is str else None for v in values], pa.string())
        numbers = pa.array([None if type(v) is str else float(v) for v in values], pa.float64())
    else:  # numbers only (ints and unsigned ones are stored as doubles)
        texts = pa.nulls(len(values), pa.string())
        numbers = pa.array(values, pa.float64())
    return pa.Table.from_arrays(
        [pa.array(cids, pa.int32()), pa.array(times, pa.int64()), numbers, texts,
         pa.array(kinds, pa.uint8())],
        schema=ROWS,
    )  # fmt: skip


class DuckStore:
    name = "duckdb"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._con: duckdb.DuckDBPyConnection | None = None
        self._columns: dict[tuple[str, str, tuple[tuple[str, str], ...], str], Column] = {}
        self._by_id: dict[int, Column] = {}
        self._lock = threading.Lock()  # guards the column maps between writer and readers
        self._queue: asyncio.Queue[tuple[str, Points, asyncio.Future[None]]] | None = None
        self._writer: asyncio.Task[None] | None = None
        self._opening = asyncio.Lock()

    # --- life ------------------------------------------------------------------------------------

    async def start(self) -> None:
        """The file is opened on first use: DuckDB locks it for one process, and CLI commands
        (``trackside users …``) start a platform beside a running server without needing it."""
        self._opening = asyncio.Lock()
        self._queue = asyncio.Queue()
        self._writer = asyncio.create_task(self._drain(), name="telemetry-writer")

    async def _ready(self) -> None:
        if self._con is None:
            async with self._opening:
                if self._con is None:
                    try:
                        await asyncio.to_thread(self._open)
                    except duckdb.Error as exc:  # e.g. another process holds the file
                        raise StoreUnavailable(f"telemetry store {self.path}: {exc}") from None

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._con = duckdb.connect(str(self.path))
        self._con.execute(SCHEMA)
        for cid, bucket, measurement, tags, field in self._con.execute(
            "SELECT id, bucket, measurement, tags, field FROM columns"
        ).fetchall():
            tag_pairs = tuple(tuple(pair) for pair in json.loads(tags))
            self._remember(Column(cid, bucket, measurement, tag_pairs, field))  # type: ignore[arg-type]

    async def close(self) -> None:
        if self._writer is not None:
            assert self._queue is not None
            await self._queue.join()
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
            self._writer = None
        if self._con is not None:
            con, self._con = self._con, None
            await asyncio.to_thread(con.close)

    def _remember(self, column: Column) -> None:
        self._columns[(column.bucket, column.measurement, column.tags, column.field)] = column
        self._by_id[column.id] = column

    # --- writing ---------------------------------------------------------------------------------

    async def write(self, bucket: str, points: Points) -> None:
        if not points:
            return
        if self._queue is None:
            raise StoreUnavailable("the telemetry store is not started")
        await self._ready()
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((bucket, points, done))
        await done

    async def _drain(self) -> None:
        assert self._queue is not None
        queue = self._queue
        while True:
            batch = [await queue.get()]
            rows = sum(len(p[1]) for p in batch)
            while not queue.empty() and rows < MAX_BATCH_ROWS:
                item = queue.get_nowait()
                batch.append(item)
                rows += len(item[1])
            try:
                await asyncio.to_thread(self._insert, [(b, p) for b, p, _ in batch])
            except Exception as exc:  # the writers hear of it; the writer goes on
                for _, _, done in batch:
                    if not done.done():
                        done.set_exception(StoreUnavailable(f"telemetry write failed: {exc}"))
            else:
                for _, _, done in batch:
                    if not done.done():
                        done.set_result(None)
            finally:
                for _ in batch:
                    queue.task_done()

    def _insert(self, batch: list[tuple[str, Points]]) -> None:
        assert self._con is not None
        new: list[Column] = []
        next_id = [max(self._by_id, default=0) + 1]

        def column_id(bucket: str, measurement: str, tags: Tags, name: str) -> int:
            column = self._columns.get((bucket, measurement, tags, name))
            if column is None:
                column = Column(next_id[0], bucket, measurement, tags, name)
                next_id[0] += 1
                new.append(column)
                with self._lock:
                    self._remember(column)
            return column.id

        pieces = [_columns_table(b, p, column_id) for b, p in batch if isinstance(p, Columns)]
        points = [(b, p) for b, p in batch if not isinstance(p, Columns)]
        if points:
            pieces.append(_points_table(points, column_id))
        table = pieces[0] if len(pieces) == 1 else pa.concat_tables(pieces)
        con = self._con
        try:
            con.execute("BEGIN TRANSACTION")
            if new:
                con.executemany(
                    "INSERT INTO columns VALUES (?, ?, ?, ?, ?)",
                    [[c.id, c.bucket, c.measurement, json.dumps(c.tags), c.field] for c in new],
                )
            con.register("incoming", table)
            con.execute("INSERT INTO points SELECT cid, time, value, text, kind FROM incoming")
            con.unregister("incoming")
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            with self._lock:
                for column in new:
                    del self._columns[
                        (column.bucket, column.measurement, column.tags, column.field)
                    ]
                    del self._by_id[column.id]
            raise

    # --- reading ---------------------------------------------------------------------------------

    def _groups(self, selection: Selection) -> tuple[list[int], list[int], list[Series]]:
        """The columns a selection reads, each with the index of the series it feeds."""
        wanted_tags = dict(selection.tags)
        fields = set(selection.fields)
        groups: dict[tuple[str, tuple[str, ...]], int] = {}
        series: list[Series] = []
        cids: list[int] = []
        group_of: list[int] = []
        with self._lock:
            columns = list(self._by_id.values())
        for column in sorted(columns, key=lambda c: c.id):
            if column.bucket != selection.bucket or column.measurement != selection.measurement:
                continue
            if fields and column.field not in fields:
                continue
            tags = dict(column.tags)
            if any(tags.get(k) != v for k, v in wanted_tags.items()):
                continue
            key_tags = tuple(tags.get(k, "") for k in selection.group_by)
            key = (column.field, key_tags)
            index = groups.get(key)
            if index is None:
                index = groups[key] = len(series)
                series.append(
                    Series(column.field, dict(zip(selection.group_by, key_tags, strict=True)))
                )
            cids.append(column.id)
            group_of.append(index)
        return cids, group_of, series

    def _read(self, sql: str, params: list[object], cids: list[int], group_of: list[int]):
        assert self._con is not None
        cursor = self._con.cursor()
        try:
            cursor.register(
                "wanted",
                pa.table(
                    {"cid": pa.array(cids, pa.int32()), "grp": pa.array(group_of, pa.int32())}
                ),
            )
            return cursor.execute(sql, params).fetchall()
        finally:
            cursor.close()

    async def count(self, selection: Selection) -> list[Series]:
        await self._ready()
        cids, group_of, series = self._groups(selection)
        if not cids:
            return []
        rows = await asyncio.to_thread(
            self._read,
            "SELECT grp, count(*) FROM points JOIN wanted USING (cid) "
            "WHERE time >= ? AND time < ? GROUP BY grp",
            [selection.start_ns, selection.stop_ns],
            cids,
            group_of,
        )
        for one in series:
            one.count = [0]
        for grp, n in rows:
            series[grp].count = [n]
        return series

    async def raw(self, selection: Selection, limit: int) -> list[Series]:
        await self._ready()
        cids, group_of, series = self._groups(selection)
        if not cids:
            return []
        rows = await asyncio.to_thread(
            self._read,
            "SELECT grp, time, value, text, kind FROM ("
            " SELECT grp, time, value, text, kind,"
            "  row_number() OVER (PARTITION BY grp ORDER BY time) AS n"
            " FROM points JOIN wanted USING (cid) WHERE time >= ? AND time < ?"
            ") WHERE n <= ? ORDER BY grp, time",
            [selection.start_ns, selection.stop_ns, limit],
            cids,
            group_of,
        )
        for grp, time_ns, value, text, kind in rows:
            series[grp].times.append(time_ns)
            series[grp].values.append(_typed(value, text, kind))
        return [s for s in series if s.times]

    async def aggregate(self, selection: Selection, every_ns: int | None) -> list[Series]:
        await self._ready()
        cids, group_of, series = self._groups(selection)
        if not cids:
            return []
        bucket = "(time // $every) * $every" if every_ns else "$start"
        rows = await asyncio.to_thread(
            self._read,
            f"SELECT grp, {bucket} AS t, min(value), max(value), avg(value),"
            " arg_max(value, time), count(*)"
            " FROM points JOIN wanted USING (cid) WHERE time >= $start AND time < $stop"
            " GROUP BY grp, t ORDER BY grp, t",
            {
                "start": selection.start_ns,
                "stop": selection.stop_ns,
                **({"every": every_ns} if every_ns else {}),
            },
            cids,
            group_of,
        )
        for grp, t, low, high, mean, last, n in rows:
            one = series[grp]
            one.times.append(t)
            one.min.append(low)
            one.max.append(high)
            one.mean.append(mean)
            one.last.append(last)
            one.count.append(n)
        return [s for s in series if s.times]

    async def describe(self, bucket: str) -> list[MeasurementInfo]:
        await self._ready()
        with self._lock:
            columns = [c for c in self._by_id.values() if c.bucket == bucket]
        found: dict[str, tuple[set[str], dict[str, set[str]]]] = {}
        for column in columns:
            fields, tags = found.setdefault(column.measurement, (set(), {}))
            fields.add(column.field)
            for key, value in column.tags:
                tags.setdefault(key, set()).add(value)
        return [
            MeasurementInfo(
                name,
                tuple(sorted(fields)),
                {k: tuple(sorted(v)) for k, v in sorted(tags.items())},
            )
            for name, (fields, tags) in sorted(found.items())
        ]
