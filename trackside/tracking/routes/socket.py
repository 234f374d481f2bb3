"""``WS /ws/location/``: a tracker app's live location updates, each acknowledged once stored.

The token comes in ``?token=`` (or ``?access_token=``), an ``Authorization: Bearer`` header, or
the ``trackside-auth`` cookie that ``/api/auth/login/`` sets. A bad or missing token closes the
socket with 4401 (a machine client's with 4403). Each ``{"type": "location_update", "latitude",
"longitude", …}`` is answered ``{"type": "location_saved", "success": true, "id"}`` once
stored; anything wrong with a message is answered ``"success": false`` with the ``error`` and
the socket stays open.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.requests import HTTPConnection

from trackside.accounts import principals
from trackside.accounts.roles import Principal
from trackside.accounts.tokens import InvalidToken
from trackside.errors import ServiceError
from trackside.platform import Platform
from trackside.tracking.fixes import MAX_MESSAGE_BYTES, WEBSOCKET, BadFix, read_update
from trackside.tracking.routes.auth import AUTH_COOKIE
from trackside.tracking.writer import WriterClosed

router = APIRouter(tags=["tracking"])

CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN = 4403
SAVED = "location_saved"


def socket_token(connection: HTTPConnection) -> str | None:
    for name in ("token", "access_token"):
        token = connection.query_params.get(name)
        if token:
            return token
    scheme, _, value = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() in ("bearer", "token", "jwt") and value.strip():
        return value.strip()
    return connection.cookies.get(AUTH_COOKIE) or None


async def socket_principal(platform: Platform, connection: HTTPConnection) -> Principal | None:
    """The caller a socket's token names; None when there is no token or it is bad."""
    token = socket_token(connection)
    if token is None:
        return None
    async with platform.db_factory() as db:
        try:
            return await principals.load_principal(db, await platform.tokens.verify(token))
        except (InvalidToken, ServiceError):
            return None


def _refusal(error: str, field: str | None = None) -> bytes:
    body: dict[str, Any] = {"type": SAVED, "success": False, "error": error}
    if field is not None:
        body["field"] = field
    return orjson.dumps(body)


@router.websocket("/ws/location/")
async def location_socket(websocket: WebSocket) -> None:
    platform: Platform = websocket.app.state.platform
    principal = await socket_principal(platform, websocket)
    await websocket.accept()
    if principal is None:
        await websocket.close(code=CLOSE_UNAUTHORIZED)
        return
    if not principal.is_user:
        await websocket.close(code=CLOSE_FORBIDDEN)
        return
    writer = platform.tracking.writer
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            raw = message.get("text")
            if raw is None:
                raw = (message.get("bytes") or b"").decode("utf-8", "replace")
            if len(raw) > MAX_MESSAGE_BYTES:
                await websocket.send_text(
                    _refusal(f"message too large: at most {MAX_MESSAGE_BYTES} bytes").decode()
                )
                continue
            try:
                data = orjson.loads(raw)
            except orjson.JSONDecodeError:
                await websocket.send_text(_refusal("not JSON").decode())
                continue
            kind = data.get("type") if isinstance(data, dict) else None
            if kind != "location_update":
                await websocket.send_text(
                    _refusal('unknown message: send {"type": "location_update", …}').decode()
                )
                continue
            try:
                fix = read_update(data, principal.id, WEBSOCKET)
            except BadFix as exc:
                await websocket.send_text(_refusal(str(exc), exc.field).decode())
                continue
            try:
                stored = await writer.write(fix)
            except WriterClosed:
                await websocket.send_text(_refusal("the server is stopping").decode())
                return
            except Exception:
                await websocket.send_text(
                    _refusal("could not store the fix; send it again").decode()
                )
                continue
            reply = {"type": SAVED, "success": True, "id": stored.id}
            await websocket.send_text(orjson.dumps(reply).decode())
    except WebSocketDisconnect:
        return
