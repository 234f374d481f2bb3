"""``/ws/events/{eventId}``: live timing over a WebSocket.

On connect the client gets the current snapshot, then numbered patches, each ``version + 1``
of the one before, all of one ``epoch``. Every message is JSON in a text frame, serialized once
by the event's processor and decoded once for every subscriber (``events/fanout.py``). A
snapshot of another epoch comes when the event's processor stopped or started again; a client
that sees a patch of another epoch or a gap, or wants to start over, sends
``{"type": "resync"}`` and gets a fresh snapshot. ``{"type": "ping"}`` comes every 20 s and
carries nothing. A subscriber too slow to keep up is sent a fresh snapshot rather than an
ever-growing queue.

Public events need no token. For private ones send ``?access_token=`` or an Authorization
header; a bad token closes the socket with 4401, a reader without access with 4403, an unknown
event with 4404.
"""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Path, WebSocket, WebSocketDisconnect
from starlette.applications import Starlette
from starlette.requests import HTTPConnection

from trackside.accounts import principals
from trackside.accounts.tokens import InvalidToken
from trackside.errors import Forbidden, NotFound, ServiceError, Unauthenticated
from trackside.events import service as events
from trackside.events.fanout import CLOSE_GOING_AWAY, Channels, Viewer
from trackside.live.broker import BrokerClosed
from trackside.platform import Platform

router = APIRouter(tags=["live"])

CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404


def bearer_token(connection: HTTPConnection) -> str | None:
    """A socket's (or a SignalR negotiate's) token: ``?access_token=`` (browsers cannot set a
    socket's headers), else the Authorization header."""
    token = connection.query_params.get("access_token")
    if token:
        return token
    header = connection.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


async def authorize(platform: Platform, websocket: WebSocket, event_id: int) -> int | None:
    """None when the caller may watch the event (``events.service.check_watchable``, the rule
    of every live route), else the close code to answer with. Without a token the event is
    read through ``WatchScopes``: a crowd connecting at once asks the database once."""
    token = bearer_token(websocket)
    try:
        if token is None:
            found = await platform.watch_scopes.get(platform.db_factory, event_id)
            if found is None:
                return CLOSE_NOT_FOUND
            events.check_watchable(found, None)
            return None
        async with platform.db_factory() as db:
            if await events.find_event(db, event_id) is None:
                return CLOSE_NOT_FOUND  # the same object is read again below, from the session
            try:
                principal = await principals.load_principal(db, await platform.tokens.verify(token))
            except (InvalidToken, ServiceError):
                return CLOSE_UNAUTHORIZED
            await events.watchable_event(db, event_id, principal)
    except NotFound:
        return CLOSE_NOT_FOUND
    except Unauthenticated:
        return CLOSE_UNAUTHORIZED
    except Forbidden:
        return CLOSE_FORBIDDEN
    return None


def get_channels(app: Starlette) -> Channels:
    """The app's live fan-out, made on first use for the platform its lifespan started."""
    state = app.state
    channels: Channels | None = getattr(state, "live_channels", None)
    platform: Platform = state.platform
    if channels is None or channels.processors is not platform.processors:
        channels = state.live_channels = Channels(platform.processors, platform.broker)
    return channels


@router.websocket("/ws/events/{eventId}")
async def live_socket(
    websocket: WebSocket, event_id: Annotated[int, Path(alias="eventId", ge=1, le=2**31 - 1)]
) -> None:
    platform: Platform = websocket.app.state.platform
    refusal = await authorize(platform, websocket, event_id)
    await websocket.accept()
    if refusal is not None:
        await websocket.close(code=refusal)
        return
    viewer = Viewer(websocket)
    try:
        channel = await get_channels(websocket.app).join(event_id, viewer)
    except BrokerClosed:
        await websocket.close(CLOSE_GOING_AWAY)
        return
    try:
        while True:
            text = await websocket.receive_text()
            try:
                message = orjson.loads(text)
            except orjson.JSONDecodeError:
                continue
            if isinstance(message, dict) and message.get("type") == "resync":
                channel.resync(viewer)
    except (WebSocketDisconnect, RuntimeError):
        pass  # the client left, or the server closed the socket (it is stopping)
    finally:
        viewer.closed = True
        channel.leave(viewer)
