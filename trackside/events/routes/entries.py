"""``/events/{eventId}/sessions|classes|entries``: read by anyone who may see the event,
changed by its organizers and officials. One route factory, so the three stay alike.

Entries (their transponders) and classes feed scoring, so changing them re-scores the event.
"""

# No ``from __future__ import annotations``: the factory's route signatures name its
# parameters' classes, which FastAPI must see as objects, not strings.

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response, status
from pydantic import BaseModel

from trackside.api.deps import (
    PagingDep,
    PlatformDep,
    ReadableEvent,
    RunEvent,
    SessionDep,
    Writer,
    paged,
)
from trackside.api.schemas.base import Patch
from trackside.events import entries as event_records
from trackside.events.models import Entry, RaceClass, RaceSession
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
from trackside.store import rows as records

router = APIRouter(prefix="/events/{eventId}")

SCORED = (Entry, RaceClass)  # kinds whose changes change what the scorer knows


def _routes(
    kind: type[Any],
    plural: str,
    id_name: str,
    out: type[BaseModel],
    create_in: type[BaseModel],
    patch_in: type[Patch],
) -> None:
    ChildId = Annotated[int, Path(alias=id_name, ge=1, le=2**31 - 1)]
    tags = [plural]

    async def rescore(platform: PlatformDep, event_id: int) -> None:
        if kind in SCORED:
            await platform.processors.reconfigure(event_id)

    item = f"/{plural}/{{{id_name}}}"

    async def list_children(
        event: ReadableEvent,
        session: SessionDep,
        paging: PagingDep,
        request: Request,
        response: Response,
    ) -> list[Any]:
        query = event_records.query(kind, event)
        rows, total = await records.page(session, query, paging.offset, paging.limit)
        paged(request, response, paging, total)
        return [out.model_validate(row) for row in rows]

    async def get_child(event: ReadableEvent, child_id: ChildId, session: SessionDep) -> Any:
        return out.model_validate(await event_records.get(session, kind, event, child_id))

    async def create_child(
        body: create_in,  # type: ignore[valid-type]
        event: RunEvent,
        _: Writer,
        session: SessionDep,
        platform: PlatformDep,
    ) -> Any:
        row = await event_records.create(session, kind, event, body.model_dump())
        await rescore(platform, event.id)
        return out.model_validate(row)

    async def update_child(
        body: patch_in,  # type: ignore[valid-type]
        event: RunEvent,
        child_id: ChildId,
        _: Writer,
        session: SessionDep,
        platform: PlatformDep,
    ) -> Any:
        row = await event_records.get(session, kind, event, child_id)
        updated = out.model_validate(await event_records.update(session, row, body.changes()))
        await rescore(platform, event.id)
        return updated

    async def delete_child(
        event: RunEvent, child_id: ChildId, _: Writer, session: SessionDep, platform: PlatformDep
    ) -> None:
        row = await event_records.get(session, kind, event, child_id)
        await event_records.delete(session, row)
        await rescore(platform, event.id)

    noun = event_records.KINDS[kind]
    router.add_api_route(
        f"/{plural}",
        list_children,
        methods=["GET"],
        response_model=list[out],  # type: ignore[valid-type]
        tags=tags,
        name=f"list_{plural}",
        summary=f"The event's {plural} (paged: offset, limit)",
    )
    router.add_api_route(
        item, get_child, methods=["GET"], response_model=out, tags=tags, name=f"get_{noun}"
    )
    router.add_api_route(
        f"/{plural}",
        create_child,
        methods=["POST"],
        status_code=status.HTTP_201_CREATED,
        response_model=out,
        tags=tags,
        name=f"create_{noun}",
    )
    router.add_api_route(
        item, update_child, methods=["PATCH"], response_model=out, tags=tags, name=f"update_{noun}"
    )
    router.add_api_route(
        item,
        delete_child,
        methods=["DELETE"],
        status_code=status.HTTP_204_NO_CONTENT,
        tags=tags,
        name=f"delete_{noun}",
    )


_routes(RaceSession, "sessions", "sessionId", SessionOut, SessionIn, SessionPatch)
_routes(RaceClass, "classes", "classId", ClassOut, ClassIn, ClassPatch)
_routes(Entry, "entries", "entryId", EntryOut, EntryIn, EntryPatch)
