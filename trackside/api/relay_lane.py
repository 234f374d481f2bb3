"""The relay's steady state, answered without FastAPI's routing and dependency solving.

A live relay posts a small batch of records several times a second, with the same bearer
token, to the same event. Routing that request through every route, solving its dependency
tree and validating its reply costs more than storing the records. ``RelayLane`` answers such
a POST itself when everything the route would check is already known: the token's caller is
in the relay's ``CallerCache`` (``api.deps.get_relay_caller``), its right to send the event's
records is kept with it (``get_relay_event``), the rate limit allows it (``limit_relay``), and
the body is a valid ``RelayBatchIn``. It then does what the route does (``append_batch``) and
answers as it does. Anything else (no token, an unknown one, a body that does not validate, a
refusal of any kind) goes on, body and all, to the route, which answers it: this lane never
refuses anything itself.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from pydantic import ValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from trackside.api.deps import relay_event_key, relay_limit_key
from trackside.events.routes.relay import EVENT_GONE, append_batch
from trackside.events.schemas import RelayBatchIn

if TYPE_CHECKING:
    from trackside.platform import Platform

PATH = re.compile(r"/relay/events/([1-9][0-9]{0,9})/records")
MAX_EVENT_ID = 2**31 - 1  # as the route's path parameter allows
JSON = b"application/json"


class RelayLane:
    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = (
            PATH.fullmatch(scope["path"])
            if scope["type"] == "http" and scope["method"] == "POST"
            else None
        )
        if found is None:
            await self.app(scope, receive, send)
            return
        body, complete, ended = await self._read(receive)
        answer = await self._answer(scope, int(found[1]), body) if complete else None
        if answer is None:
            await self.app(scope, _replay(body, complete, ended, receive), send)
            return
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", JSON),
                    (b"content-length", str(len(answer)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": answer})

    async def _read(self, receive: Receive) -> tuple[bytes, bool, Message | None]:
        """The body, whether it is all there and within the limit (if not, what was read goes
        on to the route, which refuses it), and the message that ended it early (the client
        went away), which the route gets too."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"".join(chunks), False, message
            chunk = message.get("body", b"")
            chunks.append(chunk)
            size += len(chunk)
            if size > self.max_body_bytes:
                return b"".join(chunks), False, None
            if not message.get("more_body", False):
                return b"".join(chunks), True, None

    async def _answer(self, scope: Scope, event_id: int, body: bytes) -> bytes | None:
        """The reply's body if this lane may answer; None to leave it to the route."""
        if event_id > MAX_EVENT_ID:
            return None
        headers = dict(scope["headers"])
        if headers.get(b"content-type", b"").split(b";")[0].strip().lower() != JSON:
            return None
        scheme, _, token = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        platform: Platform = scope["app"].state.platform
        caller = platform.relay_callers.cached(token, platform.tokens, platform.db_factory)
        if caller is None or relay_event_key(event_id) not in caller.allowed:
            return None
        batch = parse(body)
        if batch is None:
            return None
        settings = platform.settings
        key = relay_limit_key(caller.principal)
        limit, window = settings.relay_rate_limit, settings.rate_limit_window_s
        if await platform.limiter.hit(key, limit, window) is not None:
            return None  # limited: the route counts it again (no change) and says so
        # No session of its own: on SQLite the writer stores the batch without one.
        try:
            ack = await append_batch(platform, None, event_id, batch)
        except EVENT_GONE:
            # Deleted since its right was kept: the route asks again and answers (404).
            caller.allowed.pop(relay_event_key(event_id), None)
            return None
        return ack.model_dump_json().encode()


def parse(body: bytes) -> RelayBatchIn | None:
    """The body as a ``RelayBatchIn``, None if it is not one. Parsed and validated in one pass
    (a sixth less CPU than ``orjson`` then ``model_validate``, which accept and refuse the same
    bodies: ``tests/api/test_relay_lane_parse.py``)."""
    try:
        return RelayBatchIn.model_validate_json(body)
    except ValidationError:
        return None


def _replay(body: bytes, complete: bool, ended: Message | None, receive: Receive) -> Receive:
    """``receive`` for the route: what this lane read, then whatever follows."""
    read: list[Message] = [{"type": "http.request", "body": body, "more_body": not complete}]
    if ended is not None:
        read.append(ended)

    async def replay() -> Message:
        if read:
            return read.pop(0)
        return await receive()

    return replay
