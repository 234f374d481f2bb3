"""``/events``: the Status API's events, plus create, update and delete for organizers."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from trackside.api.deps import (
    CurrentPrincipal,
    DbDep,
    ManagedEvent,
    PagingDep,
    PlatformDep,
    ReadableEvent,
    Writer,
    paged,
    require_organizer_of,
)
from trackside.api.openapi import raises
from trackside.events import service as events
from trackside.events.schemas import EventIn, EventOut, EventPatch

router = APIRouter(prefix="/events", tags=["events"])


@router.get("", response_model=list[EventOut])
async def list_events(
    principal: CurrentPrincipal,
    db: DbDep,
    paging: PagingDep,
    request: Request,
    response: Response,
) -> list[EventOut]:
    """Events the caller may see, by start date (paged: ``offset``, ``limit``)."""
    rows, total = await events.list_visible_events(db, principal, paging.offset, paging.limit)
    paged(request, response, paging, total)
    return [EventOut.model_validate(row) for row in rows]


@router.get("/{eventId}", response_model=EventOut)
async def get_event(event: ReadableEvent) -> EventOut:
    return EventOut.model_validate(event)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=EventOut)
@raises(403)  # not an organizer of organizationId
async def create_event(body: EventIn, principal: Writer, db: DbDep) -> EventOut:
    """Organizers of ``organizationId`` (and admins)."""
    require_organizer_of(principal, body.organization_id)
    event = await events.create_event(db, body.model_dump())
    return EventOut.model_validate(event)


@router.patch("/{eventId}", response_model=EventOut)
async def update_event(
    body: EventPatch, event: ManagedEvent, principal: Writer, db: DbDep
) -> EventOut:
    changes = body.changes()
    if "organization_id" in changes:
        require_organizer_of(principal, changes["organization_id"])
    return EventOut.model_validate(await events.update_event(db, event, changes))


@router.delete("/{eventId}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_event(event: ManagedEvent, _: Writer, db: DbDep, platform: PlatformDep) -> None:
    """Deletes the event with its sessions, classes, entries and timing log."""
    platform.processors.discard(event.id)
    await events.delete_event(db, event)
