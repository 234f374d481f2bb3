"""``/event-status``: the SignalR status hub (ASP.NET Core JSON hub protocol over WebSockets).

The wire, as ../shared/reference/protocols.md §(b) and live-timing-backend.md ("Status Endpoint")
describe it, for ``@microsoft/signalr``, ``signalrcore`` and ``pysignalr``:

- ``POST /event-status/negotiate?negotiateVersion=1`` answers v1 (with a ``connectionToken``);
  without the parameter, v0. The socket then opens ``/event-status?id=`` with the token (v1) or
  the ``connectionId`` (v0). Clients that skip negotiation open ``/event-status`` with no id.
  The id is a signed token with an expiry (``events/hub.py``: ``Negotiations``), so the socket
  may reach another node than negotiate did: no sticky sessions. WebSockets only: long polling
  and server-sent events would need the node that holds each connection's queue.
- After the handshake (``{"protocol":"json","version":1}`` → ``{}``) the client calls
  ``SubscribeToEvent(eventId)`` and ``UnsubscribeFromEvent(eventId)``; each call that has an
  invocation id is answered with a Completion (an ``error`` when refused). The server invokes
  ``ReceiveMessage(status)``: a full compact payload (gzip + base64) on subscribe and at least
  every 5 s while the event is live, incremental JSON ones between (``events/hub.py``).
- Auth: ``?access_token=`` or ``Authorization: Bearer``. Public events need no token; a
  private one without a reader's token is refused with a Completion error. A bad token is a 401
  from negotiate, and on the socket a handshake error, then close code 4401.
- Keep-alive: a Ping after 15 s with nothing sent; a client silent for 30 s is closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, WebSocket, WebSocketDisconnect
from starlette.applications import Starlette

from trackside.accounts.roles import Principal
from trackside.api.problems import Unauthorized
from trackside.errors import Conflict, Forbidden, NotFound, ServiceError, Unauthenticated
from trackside.events.hub import Follower, Hub
from trackside.events.routes.stream import CLOSE_UNAUTHORIZED, bearer_token
from trackside.live import signalr
from trackside.live.signalr import Close, Invocation, ProtocolError

log = logging.getLogger(__name__)

router = APIRouter(tags=["live"])

CLOSE_NORMAL = 1000
CLOSE_POLICY = 1008
SUBSCRIBE = "SubscribeToEvent"
UNSUBSCRIBE = "UnsubscribeFromEvent"
JSON = "application/json"
NEGOTIATE_VERSION = re.compile("[0-9]{0,9}")


def get_hub(app: Starlette) -> Hub:
    """The app's hub, made on first use for the platform its lifespan started."""
    state = app.state
    hub: Hub | None = getattr(state, "signalr_hub", None)
    if hub is None or hub.platform is not state.platform:
        hub = state.signalr_hub = Hub(state.platform)
    return hub


@router.post(
    "/event-status/negotiate",
    summary="SignalR negotiate of the status hub",
    response_class=Response,
    responses={
        200: {"description": "The connection to open the socket with.", "content": {JSON: {}}},
        400: {"description": "`negotiateVersion` is not a number.", "content": {JSON: {}}},
        401: {"description": "The token sent is bad, expired or revoked.", "content": {JSON: {}}},
    },
)
async def negotiate(
    request: Request,
    negotiate_version: Annotated[
        str | None,
        Query(
            alias="negotiateVersion",
            description="1 for a `connectionToken`; none for v0.",
            json_schema_extra={"pattern": f"^{NEGOTIATE_VERSION.pattern}$"},
        ),
    ] = None,
    access_token: Annotated[
        str | None, Query(description="A token for browsers; else `Authorization: Bearer`.")
    ] = None,
) -> Response:
    """SignalR negotiate for the status hub: no token is needed (public events); one sent must
    be good. Answers ``{"connectionToken" (v1), "connectionId", "negotiateVersion",
    "availableTransports": [{"transport": "WebSockets", ...}]}``."""
    hub = get_hub(request.app)
    try:
        if negotiate_version is not None and not NEGOTIATE_VERSION.fullmatch(negotiate_version):
            raise ProtocolError(  # int() takes "+1", " 1", "1_0": only what the schema states
                f"The negotiateVersion query string parameter {negotiate_version!r} cannot be "
                "parsed."
            )
        version = signalr.negotiate_version(negotiate_version)
    except ProtocolError as exc:
        return Response(signalr.negotiate_error(str(exc)), 400, media_type=JSON)
    token = access_token or bearer_token(request)
    if token is not None:
        try:
            await hub.principal(token)
        except ServiceError as exc:
            return Response(
                signalr.negotiate_error(f"Unauthorized: {exc.message}"),
                401,
                headers={"WWW-Authenticate": Unauthorized(exc.message).challenge},
                media_type=JSON,
            )
    return Response(hub.negotiations.negotiate(version), media_type=JSON)


@router.websocket("/event-status")
async def event_status(websocket: WebSocket) -> None:
    hub = get_hub(websocket.app)
    socket_id = websocket.query_params.get("id")
    if socket_id:
        try:
            await hub.negotiations.claim(socket_id)
        except NotFound as exc:
            await _deny(websocket, 404, exc.message)
            return
        except Conflict as exc:
            await _deny(websocket, 409, exc.message)
            return
    try:
        await _serve(hub, websocket)
    finally:
        if socket_id:
            hub.negotiations.release(socket_id)


async def _deny(websocket: WebSocket, status: int, message: str) -> None:
    """Refuse the upgrade with an HTTP status where the server can, else a plain close."""
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        body = signalr.negotiate_error(message)
        await websocket.send_denial_response(Response(body, status, media_type=JSON))
    else:
        await websocket.close(CLOSE_POLICY)


async def _receive(websocket: WebSocket) -> str | bytes:
    """The next frame's data; text and binary frames both carry the JSON protocol."""
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", CLOSE_NORMAL))
    text = message.get("text")
    return text if text is not None else message.get("bytes") or b""


async def _refuse(websocket: WebSocket, answer: str, code: int) -> None:
    """Answer the handshake with an error, then close."""
    with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
        await websocket.send_text(answer)
        await websocket.close(code)


async def _handshake(
    hub: Hub, websocket: WebSocket, frames: signalr.FrameReader
) -> tuple[Principal | None, list[str]] | None:
    """Read the handshake, check the token; the caller and the messages that came with the
    handshake, or None when the connection was refused (and closed)."""
    messages: list[str] = []
    async with asyncio.timeout(hub.handshake_timeout_ms / 1000):
        while not messages:
            messages = frames.feed(await _receive(websocket))
    try:
        request = signalr.parse_handshake(messages[0])
    except ProtocolError as exc:
        await _refuse(websocket, signalr.handshake_error(f"Handshake failed: {exc}"), CLOSE_POLICY)
        return None
    answer, accepted = signalr.handshake_response(request)
    if not accepted:
        await _refuse(websocket, answer, CLOSE_POLICY)
        return None
    principal = None
    token = bearer_token(websocket)
    if token is not None:
        try:
            principal = await hub.principal(token)
        except ServiceError as exc:
            error = signalr.handshake_error(f"Unauthorized: {exc.message}")
            await _refuse(websocket, error, CLOSE_UNAUTHORIZED)
            return None
    await websocket.send_text(answer)
    return principal, messages[1:]


async def _serve(hub: Hub, websocket: WebSocket) -> None:
    await websocket.accept()
    frames = signalr.FrameReader()
    try:
        opened = await _handshake(hub, websocket, frames)
    except (TimeoutError, ProtocolError):
        with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
            await websocket.close(CLOSE_POLICY)
        return
    except WebSocketDisconnect:
        return
    if opened is None:
        return
    principal, pending = opened
    connection = _Connection(hub, websocket, frames, principal)
    reader = asyncio.create_task(connection.read(pending))
    try:
        await connection.write()
    finally:
        connection.follower.close(None)
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
            await reader
        hub.leave(connection.follower)


class _Connection:
    """One open hub connection: a reader of the client's messages, a writer of the outbox."""

    def __init__(
        self,
        hub: Hub,
        websocket: WebSocket,
        frames: signalr.FrameReader,
        principal: Principal | None,
    ) -> None:
        self.hub = hub
        self.websocket = websocket
        self.frames = frames
        self.principal = principal
        self.follower = Follower()

    async def write(self) -> None:
        """Send what the outbox holds; a Ping when nothing went out for the keep-alive time."""
        keep_alive_s = self.hub.keep_alive_ms / 1000
        websocket = self.websocket
        with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
            while True:
                item = await self.follower.next(keep_alive_s)
                if item is None:
                    await websocket.send_text(signalr.PING)
                    continue
                text, last = item
                if text is not None:
                    await websocket.send_text(text)
                if last:
                    await websocket.close(CLOSE_NORMAL)
                    return

    async def read(self, pending: list[str]) -> None:
        """Handle the client's messages until it closes, goes silent or breaks the protocol."""
        follower = self.follower
        timeout_s = self.hub.client_timeout_ms / 1000
        try:
            for text in pending:
                if not await self._handle(text):
                    return
            while True:
                async with asyncio.timeout(timeout_s):
                    data = await _receive(self.websocket)
                for text in self.frames.feed(data):
                    if not await self._handle(text):
                        return
        except TimeoutError:
            error = "Server timeout elapsed without receiving a message from the client."
            follower.close(signalr.close(error))
        except ProtocolError as exc:
            follower.close(signalr.close(f"Connection closed with an error. {exc}"))
        except (WebSocketDisconnect, RuntimeError):
            follower.close(None)  # the client is gone: nothing to tell it
        except Exception:  # a bug here must close this connection, not leave a dead task
            log.exception("hub connection failed reading a message")
            follower.close(signalr.close("Connection closed with an error."))
        finally:
            follower.close(signalr.close())

    async def _handle(self, text: str) -> bool:
        """One message; False when the client said it is closing."""
        message = signalr.parse_message(text)
        if type(message) is Invocation:
            await self._invoke(message)
        elif type(message) is Close:
            return False
        return True  # pings only keep the client alive; nothing else is expected of it

    async def _invoke(self, call: Invocation) -> None:
        error: str | None = None
        if call.stream:
            error = f"'{call.target}' is not a streaming method."
        elif call.is_target(SUBSCRIBE) or call.is_target(UNSUBSCRIBE):
            error = await self._subscription(call)
        else:
            error = f"Unknown hub method '{call.target}'"
        if call.invocation_id is not None:
            if error is None:
                self.follower.send(signalr.completion(call.invocation_id))
            else:
                self.follower.send(signalr.completion(call.invocation_id, error=error))

    async def _subscription(self, call: Invocation) -> str | None:
        """Subscribe or unsubscribe; the error to answer with, if any."""
        try:
            event_id = signalr.event_id_argument(call)
            if call.is_target(UNSUBSCRIBE):
                self.hub.unsubscribe(self.follower, event_id)
            else:
                await self.hub.subscribe(self.follower, event_id, self.principal)
        except ProtocolError as exc:
            return str(exc)
        except (Unauthenticated, Forbidden, NotFound) as exc:
            return f"{_REFUSALS[type(exc)]}: {exc.message}"
        except Exception:
            log.exception("SubscribeToEvent failed")
            return f"An unexpected error occurred invoking '{call.target}' on the server."
        return None


_REFUSALS: dict[type[ServiceError], str] = {
    Unauthenticated: "Unauthorized",
    Forbidden: "Forbidden",
    NotFound: "Not found",
}
