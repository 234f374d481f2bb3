"""Telemetry use cases: take points (seed JSON or line protocol) into buckets, answer queries.

``Telemetry`` is what the platform holds: the store and the buckets known to exist. Points
without a time get the server's clock at arrival, one instant for the whole request, as
InfluxDB does.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from trackside.errors import Invalid
from trackside.feeds.linecolumns import Columns, Points
from trackside.feeds.lineprotocol import Point
from trackside.telemetry.models import TelemetryBucket
from trackside.telemetry.store import (
    DEFAULT_BUCKET,
    MeasurementInfo,
    Selection,
    Series,
    TelemetryStore,
    open_store,
)

BUCKET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}")
AUTO_BUCKETS = 1000  # buckets a query aims at when it names no width


@dataclass
class Telemetry:
    store: TelemetryStore
    max_points: int = 10_000
    raw_limit: int = 2_000
    known: set[str] = field(default_factory=set)

    @classmethod
    def open(
        cls, url: str | None, data_dir: Path, *, max_points: int = 10_000, raw_limit: int = 2_000
    ) -> Telemetry:
        return cls(open_store(url, data_dir), max_points=max_points, raw_limit=raw_limit)

    async def start(self) -> None:
        await self.store.start()

    async def close(self) -> None:
        await self.store.close()


def now_ns() -> int:
    return time.time_ns()


def check_bucket(name: str, field_name: str = "bucket") -> str:
    if not BUCKET_NAME.fullmatch(name):
        raise Invalid(field_name, "a bucket name is 1-64 letters, digits, '_', '-', '.'")
    return name


async def ensure_bucket(
    telemetry: Telemetry, db: AsyncSession, name: str, org: str | None, user_id: int | None
) -> None:
    if name in telemetry.known:
        return
    if await db.get(TelemetryBucket, name) is None:
        db.add(TelemetryBucket(name=name, org=org, created_by=user_id))
        try:
            await db.commit()
        except IntegrityError:  # made by a concurrent first write
            await db.rollback()
    telemetry.known.add(name)


async def write(
    telemetry: Telemetry,
    db: AsyncSession,
    points: Points,
    *,
    bucket: str = DEFAULT_BUCKET,
    org: str | None = None,
    user_id: int | None = None,
) -> int:
    """Store the points; once this returns they are queryable. Returns how many."""
    check_bucket(bucket)
    if not points:
        return 0
    arrived = now_ns()
    timed: Points
    if isinstance(points, Columns):
        points.fill_times(arrived)
        timed = points
    else:
        timed = [
            p if p.time_ns is not None else Point(p.measurement, p.tags, p.fields, arrived)
            for p in points
        ]
    await ensure_bucket(telemetry, db, bucket, org, user_id)
    await telemetry.store.write(bucket, timed)
    return len(timed)


async def buckets(db: AsyncSession) -> list[str]:
    return list(
        (await db.scalars(select(TelemetryBucket.name).order_by(TelemetryBucket.name))).all()
    )


@dataclass(frozen=True, slots=True)
class Answer:
    every_ns: int | None  # None: raw points
    series: list[Series]


def _auto_every(span_ns: int) -> int:
    """A round width giving at most AUTO_BUCKETS buckets."""
    need = max(1, -(-span_ns // AUTO_BUCKETS))
    for step in STEPS_NS:
        if step >= need:
            return step
    return need


STEPS_NS = [
    n * unit
    for unit in (1_000_000, 1_000_000_000, 60_000_000_000, 3_600_000_000_000)
    for n in (1, 2, 5, 10, 20, 30, 50, 100, 200, 500)
]


async def query(telemetry: Telemetry, selection: Selection, every_ns: int | None) -> Answer:
    """Aggregates per ``every_ns`` bucket when a width is asked for; otherwise raw points when
    every series of the range has at most ``raw_limit``, else aggregates at a width giving
    about AUTO_BUCKETS buckets. Never more than ``max_points`` per series."""
    span = selection.stop_ns - selection.start_ns
    if span <= 0:
        raise Invalid("stop", "stop must be after start")
    if every_ns is not None and -(-span // every_ns) > telemetry.max_points:
        raise Invalid(
            "every",
            f"{-(-span // every_ns)} buckets in the range; at most {telemetry.max_points}"
            " (widen every or narrow the range)",
        )
    if every_ns is None:
        counts = await telemetry.store.count(selection)
        most = max((s.count[0] for s in counts), default=0)
        if most <= telemetry.raw_limit:
            return Answer(None, await telemetry.store.raw(selection, telemetry.raw_limit))
    width = every_ns or _auto_every(span)
    return Answer(width, await telemetry.store.aggregate(selection, width))


async def describe(telemetry: Telemetry, bucket: str) -> list[MeasurementInfo]:
    return await telemetry.store.describe(check_bucket(bucket))
