"""``/events/{eventId}/log``: the event's log as it was scored, for ``trackside replay``."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from trackside.api.deps import PlatformDep, RunEvent
from trackside.events import log_export
from trackside.events.classification_schemas import problems

router = APIRouter(prefix="/events/{eventId}", tags=["log"])


@router.get(
    "/log",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {log_export.MEDIA_TYPE: {}},
            "description": 'One record a line: {"position", "source", "seq", "receivedAt", '
            '"type", "data"}, in log order',
        },
        **problems(401, 403, 404, 422),
    },
)
async def export_log(
    event: RunEvent,
    platform: PlatformDep,
    format: Annotated[Literal["jsonl"], Query()] = "jsonl",
) -> StreamingResponse:
    """Every record the event's log has scored, in log order, as JSON lines (organizers and
    officials): ``trackside replay`` scores the file as the server did."""
    name = f"event-{event.id}-log.jsonl"
    return StreamingResponse(
        log_export.jsonl(platform.db_factory, event.id),
        media_type=log_export.MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
