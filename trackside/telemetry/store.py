"""The time-series store behind one small interface, and the choice of backend from settings.

Two backends answer it: DuckDB embedded in the server (``duck.py``, the default) and a real
InfluxDB reached over its v1 HTTP API (``influx.py``). Both aggregate on the store: Python only
ever sees one row per time bucket, or raw points when a range holds few of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from trackside.feeds.linecolumns import Points
from trackside.feeds.lineprotocol import FieldValue

DEFAULT_BUCKET = "telemetry"


class StoreUnavailable(Exception):
    """The store could not take or answer a request (InfluxDB down, disk full …)."""


@dataclass(frozen=True, slots=True)
class Selection:
    """Which points: one measurement of a bucket, some fields, tags equal to values, a range."""

    bucket: str
    measurement: str
    fields: tuple[str, ...]  # empty: every field
    tags: tuple[tuple[str, str], ...]
    start_ns: int
    stop_ns: int  # exclusive
    group_by: tuple[str, ...] = ()  # tag keys that split the result into series


@dataclass(slots=True)
class Series:
    """One field of one group: either raw ``(time, value)`` or per-bucket aggregate rows."""

    field: str
    tags: dict[str, str]
    times: list[int] = field(default_factory=list)
    values: list[FieldValue | None] = field(default_factory=list)  # raw
    min: list[float | None] = field(default_factory=list)
    max: list[float | None] = field(default_factory=list)
    mean: list[float | None] = field(default_factory=list)
    last: list[float | None] = field(default_factory=list)
    count: list[int] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class MeasurementInfo:
    name: str
    fields: tuple[str, ...]
    tags: dict[str, tuple[str, ...]]


class TelemetryStore(Protocol):
    name: str

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def write(self, bucket: str, points: Points) -> None:
        """Store points (each with its time set); returns once they are queryable."""
        ...

    async def count(self, selection: Selection) -> list[Series]:
        """Points per series in the range (``count`` holds one number)."""
        ...

    async def raw(self, selection: Selection, limit: int) -> list[Series]:
        """The points themselves, oldest first, at most ``limit`` per series."""
        ...

    async def aggregate(self, selection: Selection, every_ns: int | None) -> list[Series]:
        """min, max, mean, last and count per ``every_ns`` bucket (aligned to the epoch); one
        bucket over the whole range, timed at its start, when ``every_ns`` is None."""
        ...

    async def describe(self, bucket: str) -> list[MeasurementInfo]:
        """The measurements of a bucket with their fields and tag values."""
        ...


def open_store(url: str | None, data_dir: Path) -> TelemetryStore:
    """``None`` → DuckDB at ``<data_dir>/telemetry.duckdb``; ``influxdb://host:port/db``;
    ``duckdb:///path/to/file.duckdb`` for another file."""
    if not url:
        from trackside.telemetry.duck import DuckStore

        return DuckStore(data_dir / "telemetry.duckdb")
    parts = urlsplit(url)
    if parts.scheme in ("influxdb", "influxdbs"):
        from trackside.telemetry.influx import InfluxStore

        scheme = "https" if parts.scheme == "influxdbs" else "http"
        database = parts.path.strip("/") or DEFAULT_BUCKET
        return InfluxStore(
            f"{scheme}://{parts.hostname}:{parts.port or 8086}",
            database,
            username=parts.username,
            password=parts.password,
        )
    if parts.scheme == "duckdb":
        from trackside.telemetry.duck import DuckStore

        return DuckStore(Path(parts.path))
    raise ValueError(f"telemetry_url must be influxdb://host:port/db or duckdb:///file: {url!r}")
