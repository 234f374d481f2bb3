"""Answering InfluxQL statements (``influxql.py`` parses them) from the telemetry store, in
InfluxDB 1.x's JSON shape: ``{"results": [{"statement_id", "series": [{"name", "tags",
"columns", "values"}]}]}``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from trackside.errors import Forbidden, Invalid
from trackside.telemetry import service
from trackside.telemetry.influxql import FAR_FUTURE, CreateDatabase, QueryError, Select, Show
from trackside.telemetry.influxql import Statement as Parsed
from trackside.telemetry.service import Telemetry
from trackside.telemetry.store import Selection, Series

EPOCHS = {"ns": 1, "n": 1, "u": 1_000, "µ": 1_000, "us": 1_000, "ms": 10**6, "s": 10**9}
EPOCHS |= {"m": 60 * 10**9, "h": 3600 * 10**9}


def rfc3339(time_ns: int) -> str:
    seconds, nanos = divmod(time_ns, 10**9)
    text = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    if nanos:
        text += "." + f"{nanos:09d}".rstrip("0")
    return text + "Z"


class Answerer:
    """Runs one request's statements against one bucket."""

    def __init__(
        self,
        telemetry: Telemetry,
        db: AsyncSession,
        bucket: str | None,
        epoch: str | None,
        *,
        now_ns: int,
        may_write: bool,
        user_id: int | None,
    ) -> None:
        self.telemetry = telemetry
        self.db = db
        self.bucket = bucket
        self.epoch = EPOCHS[epoch] if epoch else None
        self.now_ns = now_ns
        self.may_write = may_write
        self.user_id = user_id

    def time(self, time_ns: int) -> int | str:
        return rfc3339(time_ns) if self.epoch is None else time_ns // self.epoch

    async def run(self, statements: list[Parsed]) -> dict[str, Any]:
        results = []
        for number, statement in enumerate(statements):
            try:
                series = await self.one(statement)
            except (QueryError, Invalid) as exc:
                results.append({"statement_id": number, "error": str(exc)})
                continue
            result: dict[str, Any] = {"statement_id": number}
            if series:
                result["series"] = series
            results.append(result)
        return {"results": results}

    def _bucket(self) -> str:
        if not self.bucket:
            raise QueryError("database name required (?db=)")
        return service.check_bucket(self.bucket, "db")

    async def one(self, statement: Parsed) -> list[dict[str, Any]]:
        if isinstance(statement, CreateDatabase):
            if not self.may_write:
                raise Forbidden("creating a database needs level 5")
            name = service.check_bucket(statement.name, "name")
            await service.ensure_bucket(self.telemetry, self.db, name, None, self.user_id)
            return []
        if isinstance(statement, Show):
            return await self.show(statement)
        return await self.select(statement)

    async def show(self, show: Show) -> list[dict[str, Any]]:
        if show.what == "databases":
            names = await service.buckets(self.db)
            return [{"name": "databases", "columns": ["name"], "values": [[n] for n in names]}]
        found = await service.describe(self.telemetry, self._bucket())
        if show.measurement is not None:
            found = [m for m in found if m.name == show.measurement]
        if show.what == "measurements":
            if not found:
                return []
            return [
                {"name": "measurements", "columns": ["name"], "values": [[m.name] for m in found]}
            ]
        out = []
        for m in found:
            if show.what == "field keys":
                values = [[f] for f in m.fields]
                columns = ["fieldKey"]
            elif show.what == "tag keys":
                values = [[k] for k in m.tags]
                columns = ["tagKey"]
            else:
                values = [[show.key, v] for v in m.tags.get(show.key or "", ())]
                columns = ["key", "value"]
            if values:
                out.append({"name": m.name, "columns": columns, "values": values})
        return out

    async def select(self, query: Select) -> list[dict[str, Any]]:
        bucket = self._bucket()
        if query.aggregated:
            if query.every_ns is not None and query.start_ns is None:
                raise QueryError("GROUP BY time() needs a lower time bound (time > …)")
            stop = query.stop_ns if query.stop_ns is not None else self.now_ns
        else:
            stop = query.stop_ns if query.stop_ns is not None else FAR_FUTURE
        start = query.start_ns if query.start_ns is not None else 0
        if stop <= start:
            return []
        star = any(c.field == "*" for c in query.calls)
        fields = () if star else tuple(dict.fromkeys(c.field for c in query.calls))
        selection = Selection(
            bucket,
            query.measurement,
            fields,
            tuple(query.tags),
            start,
            stop,
            tuple(query.group_by),
        )
        cap = self.telemetry.max_points
        if query.aggregated:
            if query.every_ns and -(-(stop - start) // query.every_ns) > cap:
                raise QueryError(f"more than {cap} time buckets: widen GROUP BY time()")
            found = await self.telemetry.store.aggregate(selection, query.every_ns)
            return self._aggregated(query, found, start, stop)
        limit = min(query.limit or cap, cap)
        found = await self.telemetry.store.raw(selection, limit)
        return self._raw(query, found, limit)

    def _by_tags(self, found: list[Series]) -> dict[tuple[tuple[str, str], ...], dict[str, Series]]:
        groups: dict[tuple[tuple[str, str], ...], dict[str, Series]] = {}
        for one in found:
            groups.setdefault(tuple(sorted(one.tags.items())), {})[one.field] = one
        return dict(sorted(groups.items()))

    def _series(self, query: Select, tags: tuple[tuple[str, str], ...], columns, values):  # type: ignore[no-untyped-def]
        out: dict[str, Any] = {"name": query.measurement}
        if query.group_by:
            out["tags"] = dict(tags)
        out["columns"] = columns
        out["values"] = values
        return out

    def _aggregated(
        self, query: Select, found: list[Series], start: int, stop: int
    ) -> list[dict[str, Any]]:
        columns = ["time", *_unique([c.alias for c in query.calls])]
        out = []
        for tags, by_field in self._by_tags(found).items():
            rows: dict[int, list[Any]] = {}
            for index, call in enumerate(query.calls):
                one = by_field.get(call.field)
                if one is None:
                    continue
                column = getattr(one, call.function or "last")
                for t, value in zip(one.times, column, strict=True):
                    rows.setdefault(t, [None] * len(query.calls))[index] = value
            if query.every_ns and query.fill == "null":
                every = query.every_ns
                first = start // every * every
                times = list(range(first, stop, every))
            else:
                times = sorted(rows)
            if query.limit is not None:
                times = times[: query.limit]
            empty = [None] * len(query.calls)
            values = [[self.time(t), *rows.get(t, empty)] for t in times]
            if not query.every_ns:  # one bucket over the range: timed at its start
                values = [[self.time(start), *row[1:]] for row in values]
            out.append(self._series(query, tags, columns, values))
        return out

    def _raw(self, query: Select, found: list[Series], limit: int) -> list[dict[str, Any]]:
        out = []
        for tags, by_field in self._by_tags(found).items():
            names = sorted(by_field) if any(c.field == "*" for c in query.calls) else None
            calls = [(n, n) for n in names] if names else [(c.field, c.alias) for c in query.calls]
            rows: dict[int, list[Any]] = {}
            for index, (name, _) in enumerate(calls):
                one = by_field.get(name)
                if one is None:
                    continue
                for t, value in zip(one.times, one.values, strict=True):
                    rows.setdefault(t, [None] * len(calls))[index] = value
            times = sorted(rows)[:limit]
            values = [[self.time(t), *rows[t]] for t in times]
            columns = ["time", *_unique([alias for _, alias in calls])]
            out.append(self._series(query, tags, columns, values))
        return out


def _unique(names: list[str]) -> list[str]:
    """InfluxDB's column names: a repeated one gets ``_1``, ``_2`` …"""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        if name in seen:
            seen[name] += 1
            out.append(f"{name}_{seen[name]}")
        else:
            seen[name] = 0
            out.append(name)
    return out
