"""``/events/{eventId}/control-log``: the race-control log. Officials and organizers upload it
(or configure a URL the server polls); anyone who may watch the event reads it."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response, status
from starlette.datastructures import UploadFile

from trackside.api.deps import DbDep, LiveEvent, PlatformDep, RunEvent, Writer
from trackside.controllog import fetch
from trackside.controllog import service as controllog
from trackside.controllog import source as controllog_config
from trackside.controllog.schemas import (
    ControlLogOut,
    ControlLogSourceIn,
    ControlLogSourceOut,
    ImportOut,
)
from trackside.controllog.source import SourceSpec
from trackside.errors import Invalid

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
    request: Request, event: RunEvent, _: Writer, db: DbDep, platform: PlatformDep
) -> ImportOut:
    """Import the whole log as race control keeps it: new and edited rows become new
    revisions in the event's log, rows gone upstream are withdrawn, bad rows are kept."""
    result = await platform.control_logs.import_csv(db, event.id, await _csv(request))
    return ImportOut(
        rows=result.rows,
        new=result.new,
        changed=result.changed,
        removed=result.removed,
        bad_rows=result.bad_rows,
        appended=result.appended,
        acked_seq=result.acked_seq,
    )


@router.get("", response_model=ControlLogOut)
async def read(event: LiveEvent, db: DbDep, platform: PlatformDep) -> ControlLogOut:
    """Current entries (with the revisions they superseded and their session), per-car
    warnings, penalty laps and black flags, and the rows that could not be used, with why."""
    return await controllog.view(db, platform.processors, event.id)


@router.get("/source", response_model=ControlLogSourceOut)
async def get_source(event: RunEvent, db: DbDep) -> ControlLogSourceOut:
    """How the log is read and polled, and how the last poll went."""
    return controllog_config.to_wire(await controllog_config.get(db, event.id))


@router.put("/source", response_model=ControlLogSourceOut)
async def put_source(
    body: ControlLogSourceIn, event: RunEvent, _: Writer, db: DbDep, platform: PlatformDep
) -> ControlLogSourceOut:
    """Set the columns and penalty rules the log is read with, and the URL to poll (polled
    at once, then every ``intervalS``; null: uploads only)."""
    url = None if body.url is None else str(body.url)
    if url is not None and not platform.settings.fetch_allow_private:
        await fetch.check_fetchable(url)
    spec = SourceSpec(
        url=url,
        interval_s=body.interval_s,
        columns=body.columns.config(),
        penalty_rules=[(rule.pattern, rule.outcome) for rule in body.penalty_rules],
        void_statuses=body.void_statuses,
    )
    row = await controllog_config.put(db, event.id, spec)
    if row.url is None:
        platform.control_log_poller.stop(event.id)
    else:
        platform.control_log_poller.configure(event.id)
    return controllog_config.to_wire(row)


@router.delete("/source", status_code=status.HTTP_204_NO_CONTENT)
async def delete_source(event: RunEvent, _: Writer, db: DbDep, platform: PlatformDep) -> Response:
    """Stop polling and forget the configuration; the log's records stay."""
    await controllog_config.get(db, event.id)  # 404 before the poller is touched
    platform.control_log_poller.stop(event.id)
    await controllog_config.delete(db, event.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
