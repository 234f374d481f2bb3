"""Live timing over HTTP: the snapshot, results (JSON or CSV), diagnostics and charts."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Header, Path, Query, Response

from trackside.api.deps import DbDep, LiveEvent, PlatformDep, RunEvent
from trackside.events import live_reads, results_pdf
from trackside.events.classification_schemas import problems
from trackside.events.schemas import DiagnosticsOut
from trackside.web import charts

router = APIRouter(tags=["live"])

SessionId = Annotated[int, Path(alias="sessionId", ge=1, le=2**31 - 1)]
SessionIndex = Annotated[int, Path(ge=0, le=10_000)]


@router.get("/events/{eventId}/live")
async def live_snapshot(event: LiveEvent, platform: PlatformDep) -> Response:
    """The current live snapshot ``{"version", "current", "sessions"}`` (the WebSocket's first
    message); public events need no token."""
    processor = await platform.processors.get(event.id)
    return Response(orjson.dumps(processor.state.snapshot), media_type="application/json")


@router.get(
    "/events/{eventId}/sessions/{sessionId}/results",
    response_model=None,
    responses={
        200: {"content": {"text/csv": {}, "application/pdf": {}}},
        **problems(401, 403, 404, 422),
    },
)
async def session_results(
    event: LiveEvent,
    session_id: SessionId,
    db: DbDep,
    platform: PlatformDep,
    format: Annotated[Literal["json", "csv", "pdf"] | None, Query()] = None,
    accept: Annotated[str | None, Header()] = None,
) -> Any:
    """The session's classification with the officials' corrections and its status
    (``classification``); ``?format=csv`` (or ``Accept: text/csv``) for CSV, ``?format=pdf``
    (or ``Accept: application/pdf``) for the printable results sheet."""
    result = await live_reads.session_results(db, platform.processors, event, session_id)
    if format == "pdf" or (format is None and accept and "application/pdf" in accept):
        name = f"event-{event.id}-session-{session_id}-results.pdf"
        return Response(
            results_pdf.results_pdf(result, event.name),
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    if format == "csv" or (format is None and accept and "text/csv" in accept):
        name = f"event-{event.id}-session-{session_id}-results.csv"
        return Response(
            live_reads.results_csv(result),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return result


@router.get("/events/{eventId}/diagnostics", response_model=DiagnosticsOut)
async def event_diagnostics(event: RunEvent, db: DbDep, platform: PlatformDep) -> DiagnosticsOut:
    """What the event's processor could not score: counts, samples, relay sources."""
    return await live_reads.diagnostics(db, platform.processors, event)


@router.get(
    "/events/{eventId}/live/sessions/{index}/charts/{kind}.svg",
    response_class=Response,
    responses={
        200: {
            "description": "The chart, an SVG document.",
            "content": {"image/svg+xml": {"schema": {"type": "string"}}},
        }
    },
)
async def session_chart(
    event: LiveEvent,
    index: SessionIndex,
    kind: Literal["laps", "positions"],
    platform: PlatformDep,
    cars: Annotated[
        str | None, Query(max_length=400, description="Car numbers, comma-separated")
    ] = None,
) -> Response:
    """Lap-time or position chart (SVG) of a session of the live log."""
    await platform.processors.get(event.id)
    live_session = live_reads.live_session(platform.processors, event, index)
    numbers = [n.strip() for n in cars.split(",") if n.strip()] if cars else None
    draw = charts.lap_time_chart if kind == "laps" else charts.position_chart
    return Response(draw(live_session, numbers), media_type="image/svg+xml")
