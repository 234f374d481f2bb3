"""``/events/{eventId}/sessions|classes|entries``: read by anyone who may see the event,
changed by its organizers and officials. Each route is written out; the shared steps are
the small helpers below, so the three kinds stay alike.

Entries (their transponders) and classes feed scoring, so changing them re-scores the event.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Path, Request, Response, status
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from trackside.api.deps import (
    DbDep,
    Paging,
    PagingDep,
    PlatformDep,
    ReadableEvent,
    RunEvent,
    Writer,
    paged,
)
from trackside.events import entries
from trackside.events.models import Entry, Event, EventClass, RaceSession
from trackside.events.schemas import (
    ClassIn,
    ClassOut,
    ClassPatch,
    EntryIn,
    EntryOut,
    EntryPatch,
    SessionIn,
    SessionOut,
    SessionPatch,
)

if TYPE_CHECKING:
    from trackside.platform import Platform

router = APIRouter(prefix="/events/{eventId}")

SCORED = (Entry, EventClass)  # kinds whose changes change what the scorer knows

SessionId = Annotated[int, Path(alias="sessionId", ge=1, le=2**31 - 1)]
ClassId = Annotated[int, Path(alias="classId", ge=1, le=2**31 - 1)]
EntryId = Annotated[int, Path(alias="entryId", ge=1, le=2**31 - 1)]


async def _list(
    kind: type[Any],
    out: type[BaseModel],
    event: Event,
    db: AsyncSession,
    paging: Paging,
    request: Request,
    response: Response,
) -> list[Any]:
    rows, total = await entries.page(db, kind, event, paging.offset, paging.limit)
    paged(request, response, paging, total)
    return [out.model_validate(row) for row in rows]


async def _create(
    kind: type[Any],
    out: type[BaseModel],
    body: BaseModel,
    event: Event,
    db: AsyncSession,
    platform: Platform,
) -> Any:
    row = await entries.create(db, kind, event, body.model_dump())
    await _rescore(kind, platform, event.id)
    return out.model_validate(row)


async def _update(
    kind: type[Any],
    out: type[BaseModel],
    body: Any,
    event: Event,
    child_id: int,
    db: AsyncSession,
    platform: Platform,
) -> Any:
    row = await entries.get(db, kind, event, child_id)
    updated = out.model_validate(await entries.update(db, row, body.changes()))
    await _rescore(kind, platform, event.id)
    return updated


async def _delete(
    kind: type[Any], event: Event, child_id: int, db: AsyncSession, platform: Platform
) -> None:
    row = await entries.get(db, kind, event, child_id)
    await entries.delete(db, row)
    await _rescore(kind, platform, event.id)


async def _rescore(kind: type[Any], platform: Platform, event_id: int) -> None:
    if kind in SCORED:
        await platform.processors.reconfigure(event_id)


# sessions


@router.get(
    "/sessions",
    response_model=list[SessionOut],
    tags=["sessions"],
    name="list_sessions",
    summary="The event's sessions (paged: offset, limit)",
)
async def list_sessions(
    event: ReadableEvent,
    db: DbDep,
    paging: PagingDep,
    request: Request,
    response: Response,
) -> list[Any]:
    return await _list(RaceSession, SessionOut, event, db, paging, request, response)


@router.get(
    "/sessions/{sessionId}", response_model=SessionOut, tags=["sessions"], name="get_session"
)
async def get_session(event: ReadableEvent, session_id: SessionId, db: DbDep) -> Any:
    return SessionOut.model_validate(await entries.get(db, RaceSession, event, session_id))


@router.post(
    "/sessions",
    status_code=status.HTTP_201_CREATED,
    response_model=SessionOut,
    tags=["sessions"],
    name="create_session",
)
async def create_session(
    body: SessionIn, event: RunEvent, _: Writer, db: DbDep, platform: PlatformDep
) -> Any:
    return await _create(RaceSession, SessionOut, body, event, db, platform)


@router.patch(
    "/sessions/{sessionId}", response_model=SessionOut, tags=["sessions"], name="update_session"
)
async def update_session(
    body: SessionPatch,
    event: RunEvent,
    session_id: SessionId,
    _: Writer,
    db: DbDep,
    platform: PlatformDep,
) -> Any:
    return await _update(RaceSession, SessionOut, body, event, session_id, db, platform)


@router.delete(
    "/sessions/{sessionId}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["sessions"],
    name="delete_session",
)
async def delete_session(
    event: RunEvent, session_id: SessionId, _: Writer, db: DbDep, platform: PlatformDep
) -> None:
    await _delete(RaceSession, event, session_id, db, platform)


# classes


@router.get(
    "/classes",
    response_model=list[ClassOut],
    tags=["classes"],
    name="list_classes",
    summary="The event's classes (paged: offset, limit)",
)
async def list_classes(
    event: ReadableEvent,
    db: DbDep,
    paging: PagingDep,
    request: Request,
    response: Response,
) -> list[Any]:
    return await _list(EventClass, ClassOut, event, db, paging, request, response)


@router.get("/classes/{classId}", response_model=ClassOut, tags=["classes"], name="get_class")
async def get_class(event: ReadableEvent, class_id: ClassId, db: DbDep) -> Any:
    return ClassOut.model_validate(await entries.get(db, EventClass, event, class_id))


@router.post(
    "/classes",
    status_code=status.HTTP_201_CREATED,
    response_model=ClassOut,
    tags=["classes"],
    name="create_class",
)
async def create_class(
    body: ClassIn, event: RunEvent, _: Writer, db: DbDep, platform: PlatformDep
) -> Any:
    return await _create(EventClass, ClassOut, body, event, db, platform)


@router.patch("/classes/{classId}", response_model=ClassOut, tags=["classes"], name="update_class")
async def update_class(
    body: ClassPatch,
    event: RunEvent,
    class_id: ClassId,
    _: Writer,
    db: DbDep,
    platform: PlatformDep,
) -> Any:
    return await _update(EventClass, ClassOut, body, event, class_id, db, platform)


@router.delete(
    "/classes/{classId}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["classes"],
    name="delete_class",
)
async def delete_class(
    event: RunEvent, class_id: ClassId, _: Writer, db: DbDep, platform: PlatformDep
) -> None:
    await _delete(EventClass, event, class_id, db, platform)


# entries


@router.get(
    "/entries",
    response_model=list[EntryOut],
    tags=["entries"],
    name="list_entries",
    summary="The event's entries (paged: offset, limit)",
)
async def list_entries(
    event: ReadableEvent,
    db: DbDep,
    paging: PagingDep,
    request: Request,
    response: Response,
) -> list[Any]:
    return await _list(Entry, EntryOut, event, db, paging, request, response)


@router.get("/entries/{entryId}", response_model=EntryOut, tags=["entries"], name="get_entry")
async def get_entry(event: ReadableEvent, entry_id: EntryId, db: DbDep) -> Any:
    return EntryOut.model_validate(await entries.get(db, Entry, event, entry_id))


@router.post(
    "/entries",
    status_code=status.HTTP_201_CREATED,
    response_model=EntryOut,
    tags=["entries"],
    name="create_entry",
)
async def create_entry(
    body: EntryIn, event: RunEvent, _: Writer, db: DbDep, platform: PlatformDep
) -> Any:
    return await _create(Entry, EntryOut, body, event, db, platform)


@router.patch("/entries/{entryId}", response_model=EntryOut, tags=["entries"], name="update_entry")
async def update_entry(
    body: EntryPatch,
    event: RunEvent,
    entry_id: EntryId,
    _: Writer,
    db: DbDep,
    platform: PlatformDep,
) -> Any:
    return await _update(Entry, EntryOut, body, event, entry_id, db, platform)


@router.delete(
    "/entries/{entryId}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["entries"],
    name="delete_entry",
)
async def delete_entry(
    event: RunEvent, entry_id: EntryId, _: Writer, db: DbDep, platform: PlatformDep
) -> None:
    await _delete(Entry, event, entry_id, db, platform)
