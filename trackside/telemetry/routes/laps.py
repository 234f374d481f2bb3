"""A car's telemetry by lap, cut by its crossings in the event log; a lap against its best."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from trackside.api.deps import DbDep, PlatformDep, ReadableEvent
from trackside.events import live_reads
from trackside.telemetry import laps, service
from trackside.telemetry.access import TelemetryRoute
from trackside.telemetry.routes.query import format_duration, series_out
from trackside.telemetry.schemas import LapOut, LapTelemetryOut
from trackside.telemetry.store import DEFAULT_BUCKET

router = APIRouter(tags=["telemetry"], route_class=TelemetryRoute)

KNOWN = {"lap", "fields", "compare", "bucket", "measurement"}


def _lap_out(found: laps.LapPoints) -> LapOut:
    window = found.window
    raw = found.every_ns is None
    return LapOut(
        number=window.number,
        lap_time_ms=window.lap_time_ms,
        start_ms=window.start_ms,
        end_ms=window.end_ms,
        every=None if raw else format_duration(found.every_ns),  # type: ignore[arg-type]
        raw=raw,
        series=[series_out(s, raw) for s in found.series],
    )


@router.get(
    "/events/{eventId}/sessions/{sessionId}/cars/{number}/telemetry",
    response_model=LapTelemetryOut,
    responses={
        401: {"description": "No token, or an expired one"},
        403: {"description": "The event is private"},
        404: {"description": "No such event, session, car or completed lap"},
        422: {"description": "A parameter is wrong (named)"},
        503: {"description": "The telemetry store is unavailable"},
    },
)
async def lap_telemetry(
    request: Request,
    event: ReadableEvent,
    platform: PlatformDep,
    db: DbDep,
    session_id: Annotated[int, Path(alias="sessionId", ge=1, le=2**31 - 1)],
    number: Annotated[str, Path(min_length=1, max_length=16)],
    lap: Annotated[int, Query(ge=1, le=100_000)],
    fields: Annotated[str | None, Query(description="Comma-separated; default: all")] = None,
    compare: Annotated[
        str | None, Query(pattern="^best$", description="best: the car's best lap beside it")
    ] = None,
    bucket: Annotated[str, Query(min_length=1, max_length=64)] = DEFAULT_BUCKET,
    measurement: Annotated[str, Query(min_length=1, max_length=200)] = "car",
) -> LapTelemetryOut:
    """Points tagged ``car=<number>`` between the car's crossings that open and close lap N,
    timed in ms since the lap started (raw, or downsampled when there are many). Any other
    query parameter is a tag to match (``session=…``). ``compare=best`` adds the car's best lap,
    aligned by lap time."""
    service.check_bucket(bucket)
    windows = await live_reads.lap_windows(db, platform.processors, event, session_id, number)
    tags = tuple(
        sorted(
            {
                **{k: v for k, v in request.query_params.items() if k not in KNOWN},
                "car": number,
            }.items()
        )
    )
    wanted = tuple(f.strip() for f in fields.split(",") if f.strip()) if fields else ()

    async def load(window: live_reads.LapWindow) -> LapOut:
        found = await laps.points(
            platform.telemetry,
            window,
            bucket=bucket,
            measurement=measurement,
            fields=wanted,
            tags=tags,
        )
        return _lap_out(found)

    chosen = laps.pick(windows, lap)
    best = laps.best(windows)
    return LapTelemetryOut(
        car=number,
        session_id=session_id,
        lap=await load(chosen),
        best=await load(best) if compare == "best" else None,
    )
