"""``/events/{eventId}/control-log``: the race-control log. Officials and organizers upload it
(or configure a URL the server polls); anyone who may watch the event reads it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response, status
from starlette.datastructures import UploadFile

from trackside.api.deps import LiveEvent, PlatformDep, RunEvent, SessionDep, Writer
from trackside.api.schemas.track import ControlLogSourceIn, ImportOut
from trackside.services import controllog, controllog_config
from trackside.services.controllog_config import SourceSpec
from trackside.services.errors import Invalid, NotFound
from trackside.store.track import ControlLogSource

router = APIRouter(prefix="/events/{eventId}/control-log", tags=["control log"])

CSV_TYPES = ("text/csv", "text/plain", "application/csv", "application/octet-stream")
UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": {"schema": {"type": "string", "pattern": r"\S"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
        },
    }
}


async def _csv(request: Request) -> bytes:
    """The CSV of an upload: the body itself, or the form field ``file``."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "multipart/form-data":
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise Invalid("file", "send the CSV as the form field 'file'")
        data = await upload.read()
    elif kind in CSV_TYPES or not kind:
        data = await request.body()
    else:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            f"send text/csv or multipart/form-data, not {kind}",
        )
    if not data.strip():
        raise Invalid("file" if kind == "multipart/form-data" else "body", "the CSV is empty")
    return data


@router.post("", response_model=ImportOut, openapi_extra=UPLOAD_BODY)
async def upload(
    request: Request, event: RunEvent, _: Writer, session: SessionDep, platform: PlatformDep
) -> ImportOut:
    """Import the whole log as race control keeps it: new and edited rows become new
    revisions in the event's log, rows gone upstream are withdrawn, bad rows are kept."""
    result = await platform.control_logs.import_csv(session, event.id, await _csv(request))
    return ImportOut(
        rows=result.rows,
        new=result.new,
        changed=result.changed,
        removed=result.removed,
        bad_rows=result.bad_rows,
        appended=result.appended,
        acked_seq=result.acked_seq,
    )


@router.get("")
async def read(event: LiveEvent, session: SessionDep, platform: PlatformDep) -> Any:
    """Current entries (with the revisions they superseded and their session), per-car
    warnings, penalty laps and black flags, and the rows that could not be used, with why."""
    return await controllog.view(session, platform.processors, event)


async def _source(session: SessionDep, event_id: int) -> ControlLogSource:
    row = await session.get(ControlLogSource, event_id)
    if row is None:
        raise NotFound(f"event {event_id} has no control log source")
    return row


@router.get("/source")
async def get_source(event: RunEvent, session: SessionDep) -> Any:
    """How the log is read and polled, and how the last poll went."""
    return controllog_config.to_json(await _source(session, event.id))


@router.put("/source")
async def put_source(
    body: ControlLogSourceIn, event: RunEvent, _: Writer, session: SessionDep, platform: PlatformDep
) -> Any:
    """Set the columns and penalty rules the log is read with, and the URL to poll (polled
    at once, then every ``intervalS``; null: uploads only)."""
    spec = SourceSpec(
        url=None if body.url is None else str(body.url),
        interval_s=body.interval_s,
        columns=body.columns.config(),
        penalty_rules=[(rule.pattern, rule.outcome) for rule in body.penalty_rules],
        void_statuses=body.void_statuses,
    )
    row = await controllog_config.put(session, event.id, spec)
    if row.url is None:
        platform.control_log_poller.stop(event.id)
    else:
        platform.control_log_poller.configure(event.id)
    return controllog_config.to_json(row)


@router.delete("/source", status_code=status.HTTP_204_NO_CONTENT)
async def delete_source(
    event: RunEvent, _: Writer, session: SessionDep, platform: PlatformDep
) -> Response:
    """Stop polling and forget the configuration; the log's records stay."""
    row = await _source(session, event.id)
    platform.control_log_poller.stop(event.id)
    await session.delete(row)
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
