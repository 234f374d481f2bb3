"""``/ws/events/{eventId}``: live timing over a WebSocket.

On connect the client gets the current snapshot, then numbered patches, each ``version + 1``
of the one before. Every message is serialized once by the event's processor and the same bytes
go to every subscriber (binary frames holding UTF-8 JSON). A client that sees a gap, or wants
to start over, sends ``{"type": "resync"}`` and gets a fresh snapshot. ``{"type": "ping"}``
comes every 20 s and carries nothing. A subscriber too slow to
keep up is sent a fresh snapshot rather than an ever-growing queue.

Public events need no token. For private ones send ``?access_token=`` or an Authorization
header; a bad token closes the socket with 4401, a reader without access with 4403, an unknown
event with 4404.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated

import orjson
from fastapi import APIRouter, Path, WebSocket, WebSocketDisconnect
from starlette.requests import HTTPConnection

from trackside.accounts import principals, roles
from trackside.accounts.tokens import InvalidToken
from trackside.errors import ServiceError
from trackside.events import service as events
from trackside.events.processors import EventProcessor
from trackside.live.broker import BrokerClosed, SubscriberLagged
from trackside.live.envelope import unframe
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
    """None when the caller may watch the event, else the close code to answer with."""
    async with platform.db_factory() as db:
        event = await events.find_event(db, event_id)
        if event is None:
            return CLOSE_NOT_FOUND
        principal = None
        token = bearer_token(websocket)
        if token is not None:
            try:
                principal = await principals.load_principal(db, await platform.tokens.verify(token))
            except (InvalidToken, ServiceError):
                return CLOSE_UNAUTHORIZED
        if roles.can_read_live(principal, events.scope(event)):
            return None
        return CLOSE_UNAUTHORIZED if principal is None else CLOSE_FORBIDDEN


class _Viewer:
    """One connection's send side: what version it has, one send at a time."""

    def __init__(self, websocket: WebSocket, processor: EventProcessor) -> None:
        self.websocket = websocket
        self.processor = processor
        self.version = -1
        self.lock = asyncio.Lock()

    async def send_snapshot(self) -> None:
        async with self.lock:
            message = self.processor.state.snapshot_message()
            await self.websocket.send_bytes(message.data)
            self.version = message.version

    async def forward(self, data: bytes) -> None:
        version, body = unframe(data)
        if version <= self.version:
            return  # already in the snapshot this viewer got
        if version != self.version + 1:
            await self.send_snapshot()  # a gap: start the viewer over
            return
        async with self.lock:
            await self.websocket.send_bytes(body)
            self.version = version


async def _listen(websocket: WebSocket, viewer: _Viewer) -> None:
    while True:
        text = await websocket.receive_text()
        try:
            message = orjson.loads(text)
        except orjson.JSONDecodeError:
            continue
        if isinstance(message, dict) and message.get("type") == "resync":
            await viewer.send_snapshot()


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
    processor = await platform.processors.get(event_id)
    viewer = _Viewer(websocket, processor)
    tasks = [
        asyncio.create_task(_listen(websocket, viewer)),
        asyncio.create_task(_forward(platform, viewer)),
        asyncio.create_task(_keep_alive(viewer)),
    ]
    try:
        # Whichever ends first (the client left, or the server is stopping) ends both.
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(
                asyncio.CancelledError, WebSocketDisconnect, BrokerClosed, RuntimeError
            ):
                await task


PING = orjson.dumps({"type": "ping"})
PING_INTERVAL_S = 20.0


async def _keep_alive(viewer: _Viewer) -> None:
    """A small message now and then: a vanished client shows as a failed send, not silence
    (the server runs without WebSocket-level pings, which some SignalR clients don't answer)."""
    while True:
        await asyncio.sleep(PING_INTERVAL_S)
        async with viewer.lock:
            await viewer.websocket.send_bytes(PING)


async def _forward(platform: Platform, viewer: _Viewer) -> None:
    """Snapshot, then every patch; a subscriber that fell behind starts over with a snapshot."""
    while True:
        try:
            async with platform.broker.subscribe(viewer.processor.topic) as subscription:
                await viewer.send_snapshot()
                async for data in subscription:
                    await viewer.forward(data)
            return  # the broker closed: the server is stopping
        except SubscriberLagged:
            continue
