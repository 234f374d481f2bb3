"""Reading telemetry: time-range queries downsampled on the store, and what a bucket holds."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request

from trackside.api.deps import PlatformDep
from trackside.errors import Invalid
from trackside.telemetry import service
from trackside.telemetry.access import ERRORS, Reader, TelemetryRoute
from trackside.telemetry.schemas import MeasurementOut, QueryOut, SeriesOut
from trackside.telemetry.store import DEFAULT_BUCKET, Selection, Series

router = APIRouter(prefix="/api/telemetry", tags=["telemetry"], route_class=TelemetryRoute)

READ_ERRORS = {k: v for k, v in ERRORS.items() if k in (401, 503)}
KNOWN = {"bucket", "measurement", "fields", "start", "stop", "every"}
DURATION = re.compile(r"(\d+)(ns|us|µs|u|ms|s|m|h|d)")
UNIT_NS = {"ns": 1, "us": 1_000, "µs": 1_000, "u": 1_000, "ms": 1_000_000, "s": 10**9}
UNIT_NS |= {"m": 60 * 10**9, "h": 3600 * 10**9, "d": 86400 * 10**9}


def duration_ns(text: str, field: str = "every") -> int:
    """``1s``, ``250ms``, ``1h30m`` → nanoseconds."""
    parts = DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise Invalid(field, "a duration such as 1s, 250ms, 5m or 1h30m")
    total = sum(int(n) * UNIT_NS[u] for n, u in parts)
    if total <= 0:
        raise Invalid(field, "a duration above zero")
    return total


def format_duration(ns: int) -> str:
    for unit in ("h", "m", "s", "ms", "us"):
        if ns % UNIT_NS[unit] == 0:
            return f"{ns // UNIT_NS[unit]}{unit}"
    return f"{ns}ns"


def instant(text: str | None, field: str, default: datetime) -> datetime:
    """RFC 3339 with a zone, ``now``, or ``now-1h`` style offsets."""
    if text is None:
        return default
    if text.startswith("now"):
        rest = text[3:]
        if not rest:
            return datetime.now(UTC)
        if rest[0] == "-":
            return datetime.now(UTC) - timedelta(microseconds=duration_ns(rest[1:], field) / 1000)
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise Invalid(
            field, "an RFC 3339 time with a zone (2025-06-01T12:00:00Z) or now-1h"
        ) from None
    if value.tzinfo is None:
        raise Invalid(field, "the time needs a zone (Z or ±hh:mm)")
    return value.astimezone(UTC)


def ns_of(moment: datetime) -> int:
    return int(moment.timestamp()) * 10**9 + moment.microsecond * 1000


def series_out(one: Series, raw: bool) -> SeriesOut:
    time_ms = [t / 1e6 for t in one.times]
    if raw:
        return SeriesOut(field=one.field, tags=one.tags, time=time_ms, value=one.values)
    return SeriesOut(
        field=one.field,
        tags=one.tags,
        time=time_ms,
        min=one.min,
        max=one.max,
        mean=one.mean,
        last=one.last,
        count=one.count,
    )


@router.get(
    "/query",
    response_model=QueryOut,
    responses={422: {"description": "A parameter is wrong (named)"}, **READ_ERRORS},
)
async def query(
    request: Request,
    _: Reader,
    platform: PlatformDep,
    measurement: Annotated[str, Query(min_length=1, max_length=200)],
    bucket: Annotated[str, Query(min_length=1, max_length=64)] = DEFAULT_BUCKET,
    fields: Annotated[str | None, Query(description="Comma-separated; default: all")] = None,
    start: Annotated[str | None, Query(description="RFC 3339 or now-1h; default 1 h back")] = None,
    stop: Annotated[str | None, Query(description="RFC 3339 or now; default now")] = None,
    every: Annotated[
        str | None, Query(description="Bucket width (1s, 100ms …); default: ≤ 1000 buckets")
    ] = None,
) -> QueryOut:
    """A time range of one measurement: min, max, mean, last and count per ``every`` bucket,
    computed by the store; without ``every``, raw points when each series has few of them.
    Any other query parameter is a tag that must equal its value (``car=7``)."""
    service.check_bucket(bucket)
    stop_at = instant(stop, "stop", datetime.now(UTC))
    start_at = instant(start, "start", stop_at - timedelta(hours=1))
    tags = tuple(sorted((k, v) for k, v in request.query_params.items() if k not in KNOWN))
    wanted = tuple(f.strip() for f in fields.split(",") if f.strip()) if fields else ()
    selection = Selection(bucket, measurement, wanted, tags, ns_of(start_at), ns_of(stop_at))
    width = duration_ns(every) if every else None
    answer = await service.query(platform.telemetry, selection, width)
    raw = answer.every_ns is None
    return QueryOut(
        bucket=bucket,
        measurement=measurement,
        start=start_at,
        stop=stop_at,
        every=None if raw else format_duration(answer.every_ns),  # type: ignore[arg-type]
        raw=raw,
        series=[series_out(s, raw) for s in answer.series],
    )


@router.get("/measurements", response_model=list[MeasurementOut], responses=READ_ERRORS)
async def measurements(
    _: Reader,
    platform: PlatformDep,
    bucket: Annotated[str, Query(min_length=1, max_length=64)] = DEFAULT_BUCKET,
) -> list[MeasurementOut]:
    """What a bucket holds: each measurement's fields and tag values (for pickers)."""
    found = await service.describe(platform.telemetry, bucket)
    return [
        MeasurementOut(
            name=m.name, fields=list(m.fields), tags={k: list(v) for k, v in m.tags.items()}
        )
        for m in found
    ]
