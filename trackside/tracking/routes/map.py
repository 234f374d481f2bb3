"""An event's live map: the page, what it starts from, its stream of positions, its course.

Who sees it: the event's organizers (and admins), its tracked participants, and everyone when
the event's tracking settings make the map public. The page itself needs no token (like the
timing board); its socket and reads enforce access. The socket takes the token as
``?access_token=`` / ``?token=``, an Authorization header or the login cookie, and closes 4401
(no or bad token), 4403 (not allowed) or 4404 (no such event).
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse

from trackside.accounts.roles import Principal
from trackside.api.deps import DbDep, EventId, ManagedEvent, OptionalPrincipal, PlatformDep
from trackside.api.problems import Unauthorized
from trackside.errors import Forbidden, NotFound
from trackside.events import service as events
from trackside.live.broker import BrokerClosed, SubscriberLagged
from trackside.platform import Platform
from trackside.tracking import course, crossings, mapview, service
from trackside.tracking.course import CheckpointSpec
from trackside.tracking.live import topic
from trackside.tracking.page import STATIC, map_page, not_found_page
from trackside.tracking.routes.socket import CLOSE_FORBIDDEN, CLOSE_UNAUTHORIZED, socket_principal
from trackside.tracking.schemas import (
    CheckpointOut,
    CheckpointsIn,
    CheckpointsOut,
    SplitOut,
    SplitsOut,
    StandingOut,
)

router = APIRouter(tags=["tracking"])

CLOSE_NOT_FOUND = 4404
READERS = {
    401: {"description": "Private map: no or bad bearer token"},
    403: {"description": "Not an organizer or participant of the event"},
    404: {"description": "No such event"},
}


async def _check_reader(db: DbDep, principal: Principal | None, event_id: int) -> None:
    await events.get_event(db, event_id)
    if await service.can_see_map(db, principal, event_id):
        return
    if principal is None:
        raise Unauthorized("the map is private: send a bearer token", error=None)
    raise Forbidden("only the event's organizers and participants see its map")


@router.get("/events/{eventId}/map", response_class=HTMLResponse, include_in_schema=False)
async def map_html(event_id: EventId, platform: PlatformDep, db: DbDep) -> HTMLResponse:
    event = await events.find_event(db, event_id)
    if event is None:
        return HTMLResponse(not_found_page(f"There is no event {event_id}."), status_code=404)
    settings = platform.settings
    return HTMLResponse(
        map_page(
            event.id, event.name, settings.tracking_tile_url, settings.tracking_tile_attribution
        )
    )


@router.get("/tracking/static/{name:path}", include_in_schema=False)
async def static_file(name: str) -> FileResponse:
    path = (STATIC / name).resolve()
    if not path.is_file() or STATIC.resolve() not in path.parents:
        raise NotFound(f"no file {name}")
    return FileResponse(path)


@router.get("/events/{eventId}/tracking/map", responses=READERS)
async def map_snapshot(
    event_id: EventId, principal: OptionalPrincipal, platform: PlatformDep, db: DbDep
) -> dict[str, Any]:
    """What the map starts from: participants (latest position, trail), checkpoints, course."""
    await _check_reader(db, principal, event_id)
    return await mapview.snapshot(db, platform.settings, event_id)


@router.get(
    "/events/{eventId}/tracking/checkpoints", response_model=CheckpointsOut, responses=READERS
)
async def get_checkpoints(
    event_id: EventId, principal: OptionalPrincipal, db: DbDep
) -> CheckpointsOut:
    """The course's checkpoints in order (the first is the start, the last the finish)."""
    await _check_reader(db, principal, event_id)
    rows = await course.of_event(db, event_id)
    return CheckpointsOut(checkpoints=[CheckpointOut.of(row) for row in rows])


@router.put(
    "/events/{eventId}/tracking/checkpoints",
    response_model=CheckpointsOut,
    responses={**READERS, 422: {"description": "A checkpoint without its shape"}},
)
async def put_checkpoints(
    body: CheckpointsIn, event: ManagedEvent, platform: PlatformDep, db: DbDep
) -> CheckpointsOut:
    """Set the course (organizers): lines ``points: [[lat, lon], [lat, lon]]`` or circles
    ``center: [lat, lon], radiusM``, in course order."""
    specs = [
        CheckpointSpec(c.name, c.kind, c.points, c.center, c.radiusM) for c in body.checkpoints
    ]
    rows = await course.put(db, event.id, specs)
    platform.tracking.participants_changed()
    return CheckpointsOut(checkpoints=[CheckpointOut.of(row) for row in rows])


@router.get("/events/{eventId}/tracking/splits", response_model=SplitsOut, responses=READERS)
async def get_splits(event_id: EventId, principal: OptionalPrincipal, db: DbDep) -> SplitsOut:
    """The session timed by checkpoints: each participant's splits (time since its start) and
    positions (most checkpoints reached, then the shortest time), from the event log."""
    await _check_reader(db, principal, event_id)
    names, table = await crossings.splits(db, event_id)
    return SplitsOut(
        eventId=event_id,
        checkpoints=names,
        standings=[
            StandingOut(
                position=s.position,
                userId=s.participant,
                username=s.name,
                reached=s.reached,
                elapsedMs=s.elapsed_ms,
                splits=[
                    SplitOut(
                        checkpoint=split.checkpoint,
                        time=datetime.fromtimestamp(split.time_ms / 1000, UTC),
                        elapsedMs=split.elapsed_ms,
                    )
                    for split in s.splits
                ],
            )
            for s in table
        ],
    )


@router.websocket("/ws/events/{eventId}/positions")
async def positions_socket(
    websocket: WebSocket, event_id: Annotated[int, PathParam(alias="eventId", ge=1, le=2**31 - 1)]
) -> None:
    """The map's stream: a snapshot, then ``{"type": "positions", "positions": [...]}``."""
    platform: Platform = websocket.app.state.platform
    principal = await socket_principal(platform, websocket)
    async with platform.db_factory() as db:
        event = await events.find_event(db, event_id)
        allowed = event is not None and await service.can_see_map(db, principal, event_id)
    await websocket.accept()
    if event is None:
        await websocket.close(code=CLOSE_NOT_FOUND)
        return
    if not allowed:
        await websocket.close(code=CLOSE_UNAUTHORIZED if principal is None else CLOSE_FORBIDDEN)
        return
    tasks = [
        asyncio.create_task(_forward(platform, websocket, event_id)),
        asyncio.create_task(_drain(websocket)),
    ]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(
                asyncio.CancelledError, WebSocketDisconnect, BrokerClosed, RuntimeError
            ):
                await task


async def _forward(platform: Platform, websocket: WebSocket, event_id: int) -> None:
    """A snapshot, then every update; a subscriber that fell behind starts over."""
    while True:
        try:
            async with platform.broker.subscribe(topic(event_id)) as subscription:
                async with platform.db_factory() as db:
                    start = await mapview.snapshot(db, platform.settings, event_id)
                await websocket.send_text(orjson.dumps(start).decode())
                async for data in subscription:
                    await websocket.send_text(data.decode())
            return  # the broker closed: the server is stopping
        except SubscriberLagged:
            continue


async def _drain(websocket: WebSocket) -> None:
    """Read (and ignore) what the client sends, so a closed socket is noticed."""
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
