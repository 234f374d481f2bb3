"""Answer only to the hosts the operator allowed: a forged ``Host`` gets a JSON 400.

Links in mail and the token issuer are built from the request when no public URL is set, so
the Host header must be one we chose. Starlette's ``TrustedHostMiddleware`` decides; this
wrapper only turns its plain-text refusal into the API's JSON one.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DETAIL = "invalid Host header: not a host this server answers to"


class AllowedHosts:
    def __init__(self, app: ASGIApp, allowed_hosts: Sequence[str]) -> None:
        self.app = app
        self._check = TrustedHostMiddleware(_mark_allowed, allowed_hosts, www_redirect=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        verdict: dict[str, bool] = {}
        await self._check({**scope, "trackside.host": verdict}, receive, _discard)
        if verdict.get("allowed"):
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": DETAIL})
        else:
            body = orjson.dumps({"detail": DETAIL})
            headers = [
                (b"content-type", b"application/json"),
                (b"content-length", b"%d" % len(body)),
            ]
            await send({"type": "http.response.start", "status": 400, "headers": headers})
            await send({"type": "http.response.body", "body": body})


async def _mark_allowed(scope: Scope, receive: Receive, send: Send) -> None:
    scope["trackside.host"]["allowed"] = True


async def _discard(message: Message) -> None:
    """Starlette's plain-text refusal goes nowhere; ours is sent instead."""
