"""Writing points: the seed's JSON routes and InfluxDB's line-protocol write APIs.

``POST /write`` is both: a JSON body is the seed's one point, any other body is line protocol
for InfluxDB 1.x's ``/write?db=``. Line protocol is parsed whole before anything is stored; the
first bad line refuses the request (400, InfluxDB's shape, naming the line).
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from trackside.api.deps import DbDep, PlatformDep
from trackside.errors import Invalid
from trackside.feeds import linecolumns
from trackside.feeds.lineprotocol import LineProtocolError, Point
from trackside.platform import Platform
from trackside.telemetry import service
from trackside.telemetry.access import (
    ERRORS,
    InfluxRoute,
    TelemetryRoute,
    Writer,
    influx_error,
    read_body,
)
from trackside.telemetry.schemas import GraphIn, WriteIn, WrittenOut, epoch_ns
from trackside.telemetry.store import DEFAULT_BUCKET

router = APIRouter(tags=["telemetry"], route_class=TelemetryRoute)
influx_router = APIRouter(tags=["telemetry"], route_class=InfluxRoute)

# Routes that read their own bodies under their own cap (the app's BodyLimit skips them).
OWN_BODY_LIMIT = frozenset({"/write", "/api/v2/write"})

PARSE_INLINE_BYTES = 32 * 1024
V1_PRECISIONS = {"n": "ns", "ns": "ns", "u": "us", "µ": "us", "ms": "ms", "s": "s"}
V1_PRECISIONS |= {"m": "m", "h": "h"}
V2_PRECISIONS = ("ns", "us", "ms", "s")

LINE_PROTOCOL_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "text/plain": {
                "schema": {"type": "string"},
                "example": "car,car=7,session=3 speed=212.4,rpm=11250i,gear=6i 1733346000000000000",
            }
        },
    }
}
WRITE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            # Inline: WriteIn is read by hand, so FastAPI puts no WriteIn in the components.
            "application/json": {"schema": WriteIn.model_json_schema()},
            **LINE_PROTOCOL_BODY["requestBody"]["content"],
        },
    }
}
LINE_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    400: {"description": "A line is not line protocol ({code, message} names it); none stored"},
    413: {"description": "The body (or its gunzipped text) is over the size cap"},
}


def _invalid_json(exc: ValidationError) -> RequestValidationError:
    return RequestValidationError(
        [{**error, "loc": ("body", *error["loc"])} for error in exc.errors()]
    )


async def _line_protocol(
    request: Request,
    platform: Platform,
    db: DbDep,
    principal_id: int,
    *,
    bucket: str,
    org: str | None,
    precision: str,
) -> Response:
    body = await read_body(request, platform.settings.telemetry_max_body_bytes)
    try:
        if len(body) > PARSE_INLINE_BYTES:  # a big body is parsed off the event loop
            points = await asyncio.to_thread(linecolumns.parse, body, precision)
        else:
            points = linecolumns.parse(body, precision)
    except LineProtocolError as exc:
        return influx_error(400, "invalid", exc.message, line=exc.line)
    if not points:
        return influx_error(400, "invalid", "no points in the body")
    await service.write(
        platform.telemetry, db, points, bucket=bucket, org=org, user_id=principal_id
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _v1_precision(precision: str | None) -> str:
    if precision is None:
        return "ns"
    if precision not in V1_PRECISIONS:
        raise Invalid("precision", f"one of {', '.join(V1_PRECISIONS)}")
    return V1_PRECISIONS[precision]


@router.post(
    "/write",
    response_model=WrittenOut,
    responses={
        204: {"description": "Line protocol stored (v1 /write?db=)"},
        422: {"description": "A JSON body's field is wrong (named); nothing stored"},
        **LINE_ERRORS,
    },
    openapi_extra=WRITE_BODY,
)
async def write(
    request: Request,
    principal: Writer,
    platform: PlatformDep,
    db: DbDep,
    database: Annotated[
        str | None, Query(alias="db", description="v1 line protocol: the bucket")
    ] = None,
    precision: Annotated[str | None, Query(description="v1: n, ns, u, µ, ms, s, m, h")] = None,
    rp: Annotated[str | None, Query(description="v1 retention policy (accepted, unused)")] = None,
) -> Any:
    """A JSON body: the seed's one point into bucket ``telemetry`` (200). Any other body: line
    protocol as InfluxDB 1.x takes it, into bucket ``db`` (204)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        if not database:
            return influx_error(400, "invalid", "database is required (?db=)")
        try:
            bucket = service.check_bucket(database, "db")
            scale = _v1_precision(precision)
        except Invalid as exc:
            return influx_error(400, "invalid", f"{exc.field}: {exc.message}")
        return await _line_protocol(
            request, platform, db, principal.id, bucket=bucket, org=None, precision=scale
        )
    body = await read_body(request, platform.settings.max_body_bytes)
    try:
        point_in = WriteIn.model_validate_json(body)
    except ValidationError as exc:
        raise _invalid_json(exc) from None
    time_ns = epoch_ns(point_in.timestamp) if point_in.timestamp is not None else None
    fields = {k: float(v) if type(v) is int else v for k, v in point_in.fields.items()}
    point = Point(point_in.measurement, tuple(sorted(point_in.tags.items())), fields, time_ns)
    n = await service.write(platform.telemetry, db, [point], user_id=principal.id)
    return WrittenOut(bucket=DEFAULT_BUCKET, points=n)


@router.post(
    "/write-graph",
    response_model=WrittenOut,
    responses={422: {"description": "timestamp or value is not a number"}, **ERRORS},
)
async def write_graph(
    body: GraphIn, principal: Writer, platform: PlatformDep, db: DbDep
) -> WrittenOut:
    """One value at a time: measurement ``graph``, field ``value``, bucket ``telemetry``.
    ``timestamp`` is epoch seconds, milliseconds, microseconds or nanoseconds, told apart by
    magnitude."""
    point = Point("graph", (), {"value": float(body.value)}, epoch_ns(body.timestamp))
    n = await service.write(platform.telemetry, db, [point], user_id=principal.id)
    return WrittenOut(bucket=DEFAULT_BUCKET, points=n)


@router.post(
    "/write-simple",
    response_model=WrittenOut,
    responses={422: {"description": "query is missing or empty"}, **ERRORS},
)
async def write_simple(
    principal: Writer,
    platform: PlatformDep,
    db: DbDep,
    # In the URL: HTTP servers refuse request lines past ~16 KiB (12 bytes a character
    # percent-encoded), before the app sees them.
    query: Annotated[str, Query(min_length=1, max_length=1024)],
) -> WrittenOut:
    """A test message: measurement ``simple``, field ``message``, bucket ``telemetry``."""
    point = Point("simple", (), {"message": query}, None)
    n = await service.write(platform.telemetry, db, [point], user_id=principal.id)
    return WrittenOut(bucket=DEFAULT_BUCKET, points=n)


@influx_router.post(
    "/api/v2/write",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=LINE_ERRORS,
    openapi_extra=LINE_PROTOCOL_BODY,
)
async def write_v2(
    request: Request,
    principal: Writer,
    platform: PlatformDep,
    db: DbDep,
    bucket: Annotated[str, Query(min_length=1, max_length=64)],
    org: Annotated[str | None, Query(max_length=100)] = None,
    org_id: Annotated[str | None, Query(alias="orgID", max_length=100)] = None,
    precision: Annotated[str, Query(pattern="^(ns|us|ms|s)$")] = "ns",
) -> Response:
    """Line protocol as InfluxDB 2.x takes it (``Authorization: Token …``, gzip allowed).
    Buckets are made on their first write; their ``org`` is recorded."""
    service.check_bucket(bucket)
    return await _line_protocol(
        request,
        platform,
        db,
        principal.id,
        bucket=bucket,
        org=org or org_id,
        precision=precision,
    )


@influx_router.get(
    "/ping",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
)
async def ping() -> Response:
    """InfluxDB's liveness probe (clients call it before writing)."""
    return Response(
        status_code=status.HTTP_204_NO_CONTENT, headers={"X-Influxdb-Version": "1.8-trackside"}
    )
