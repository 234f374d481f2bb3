"""The InfluxDB store: points written over the v1 HTTP write API, queried with InfluxQL.

The v1 API is served by InfluxDB 1.x and (as a compatibility API) by 2.x, so one client
covers both. Bucket ``telemetry`` is the database named in the URL; any other bucket is the
database of its own name, made with ``CREATE DATABASE`` on its first write.
"""

from __future__ import annotations

from typing import Any

import httpx

from trackside.feeds.linecolumns import Points
from trackside.feeds.lineprotocol import format_point
from trackside.telemetry.store import (
    DEFAULT_BUCKET,
    MeasurementInfo,
    Selection,
    Series,
    StoreUnavailable,
)


def ident(name: str) -> str:
    """An InfluxQL identifier, double-quoted."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def literal(text: str) -> str:
    """An InfluxQL string literal, single-quoted."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


class InfluxStore:
    name = "influxdb"

    def __init__(
        self,
        base_url: str,
        database: str,
        *,
        username: str | None = None,
        password: str | None = None,
        timeout_s: float = 30.0,
    ) -> None:
        self.base_url = base_url
        self.database = database
        self._auth = (username, password or "") if username else None
        self._timeout = timeout_s
        self._http: httpx.AsyncClient | None = None
        self._made: set[str] = set()

    async def start(self) -> None:
        self._http = httpx.AsyncClient(
            base_url=self.base_url, timeout=self._timeout, auth=self._auth
        )

    async def close(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def db(self, bucket: str) -> str:
        return self.database if bucket == DEFAULT_BUCKET else bucket

    async def _post(self, path: str, **kw: Any) -> httpx.Response:
        if self._http is None:
            raise StoreUnavailable("the telemetry store is not started")
        try:
            response = await self._http.post(path, **kw)
        except httpx.HTTPError as exc:
            raise StoreUnavailable(f"InfluxDB at {self.base_url}: {exc}") from None
        if response.status_code >= 300:
            raise StoreUnavailable(
                f"InfluxDB answered {response.status_code}: {response.text[:300]}"
            )
        return response

    async def _ensure(self, db: str) -> None:
        if db not in self._made:
            await self._post("/query", data={"q": f"CREATE DATABASE {ident(db)}"})
            self._made.add(db)

    async def write(self, bucket: str, points: Points) -> None:
        if not points:
            return
        db = self.db(bucket)
        await self._ensure(db)
        body = "\n".join(format_point(p, unsigned=False) for p in points).encode()
        await self._post("/write", params={"db": db, "precision": "ns"}, content=body)

    async def query(self, db: str, q: str) -> list[dict[str, Any]]:
        """Statements' results as InfluxDB answers them (``epoch=ns``)."""
        response = await self._post("/query", data={"db": db, "q": q, "epoch": "ns"})
        results = response.json().get("results", [])
        for result in results:
            if "error" in result:
                raise StoreUnavailable(f"InfluxDB: {result['error']}")
        return results

    async def _fields(self, selection: Selection) -> list[str]:
        if selection.fields:
            return list(selection.fields)
        try:
            results = await self.query(
                self.db(selection.bucket), f"SHOW FIELD KEYS FROM {ident(selection.measurement)}"
            )
        except StoreUnavailable as exc:
            if "database not found" in str(exc):
                return []
            raise
        return [row[0] for s in results[0].get("series", []) for row in s["values"]]

    def _where(self, selection: Selection) -> str:
        parts = [f"time >= {selection.start_ns}", f"time < {selection.stop_ns}"]
        parts += [f"{ident(k)} = {literal(v)}" for k, v in selection.tags]
        return " AND ".join(parts)

    def _group(self, selection: Selection, every_ns: int | None = None) -> str:
        keys = ([f"time({every_ns}ns)"] if every_ns else []) + [
            ident(k) for k in selection.group_by
        ]
        return f" GROUP BY {', '.join(keys)}" if keys else ""

    async def _per_field(
        self, selection: Selection, select: str, tail: str = ""
    ) -> list[tuple[str, dict[str, Any]]]:
        """Run one statement per field; (field, InfluxDB series) pairs back."""
        fields = await self._fields(selection)
        if not fields:
            return []
        statements = [
            f"SELECT {select.format(f=ident(f))} FROM {ident(selection.measurement)}"
            f" WHERE {self._where(selection)}{tail}"
            for f in fields
        ]
        try:
            results = await self.query(self.db(selection.bucket), "; ".join(statements))
        except StoreUnavailable as exc:
            if "database not found" in str(exc):
                return []
            raise
        out = []
        for field, result in zip(fields, results, strict=False):
            for series in result.get("series", []):
                out.append((field, series))
        return out

    def _series(self, field: str, selection: Selection, raw: dict[str, Any]) -> Series:
        tags = raw.get("tags") or {}
        return Series(field, {k: tags.get(k, "") for k in selection.group_by})

    async def count(self, selection: Selection) -> list[Series]:
        found = await self._per_field(selection, "count({f})", self._group(selection))
        out = []
        for field, raw in found:
            series = self._series(field, selection, raw)
            series.count = [int(raw["values"][0][1] or 0)]
            out.append(series)
        return out

    async def raw(self, selection: Selection, limit: int) -> list[Series]:
        found = await self._per_field(
            selection, "{f}", f"{self._group(selection)} ORDER BY time LIMIT {int(limit)}"
        )
        out = []
        for field, raw in found:
            series = self._series(field, selection, raw)
            for t, value in raw["values"]:
                if value is None:
                    continue
                series.times.append(t)
                series.values.append(value)
            if series.times:
                out.append(series)
        return out

    async def aggregate(self, selection: Selection, every_ns: int | None) -> list[Series]:
        found = await self._per_field(
            selection,
            "min({f}), max({f}), mean({f}), last({f}), count({f})",
            self._group(selection, every_ns) + (" fill(none)" if every_ns else ""),
        )
        out = []
        for field, raw in found:
            series = self._series(field, selection, raw)
            for t, low, high, mean, last, n in raw["values"]:
                series.times.append(t)
                series.min.append(low)
                series.max.append(high)
                series.mean.append(mean)
                series.last.append(last)
                series.count.append(int(n or 0))
            if series.times:
                out.append(series)
        return out

    async def describe(self, bucket: str) -> list[MeasurementInfo]:
        db = self.db(bucket)
        try:
            results = await self.query(db, "SHOW FIELD KEYS; SHOW TAG KEYS")
        except StoreUnavailable as exc:
            if "database not found" in str(exc):
                return []
            raise
        fields = {s["name"]: [row[0] for row in s["values"]] for s in results[0].get("series", [])}
        tag_keys = {
            s["name"]: [row[0] for row in s["values"]] for s in results[1].get("series", [])
        }
        out = []
        for name in sorted(fields):
            tags: dict[str, tuple[str, ...]] = {}
            for key in tag_keys.get(name, []):
                values = await self.query(
                    db, f"SHOW TAG VALUES FROM {ident(name)} WITH KEY = {ident(key)}"
                )
                tags[key] = tuple(
                    sorted(row[1] for s in values[0].get("series", []) for row in s["values"])
                )
            out.append(MeasurementInfo(name, tuple(sorted(fields[name])), tags))
        return out
