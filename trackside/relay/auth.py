"""The relay's access token, by OAuth2 client credentials, renewed before it runs out.

A token is fetched on first use and again once 80 % of its lifetime has passed, so uploads do
not fail with an expired token in the middle of a race; ``invalidate`` drops it when the server
answered 401 anyway (e.g. keys rotated). The secret is sent in the form body only and never
logged or shown; errors name the status and the server's error code.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx

from trackside.relay.errors import Outage, Refused, describe, detail, retry_after

# The realm-free token route: a server's realm (TRACKSIDE_REALM) is its own business.
TOKEN_PATH = "/oauth/token"
DEFAULT_LIFETIME = 60.0


class TokenClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        server: str,
        client_id: str,
        client_secret: str,
        *,
        renew_at: float = 0.8,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = server.rstrip("/") + TOKEN_PATH
        self._http = http
        self._client_id = client_id
        self._client_secret = client_secret
        self._renew_at = renew_at
        self._clock = clock
        self._token: str | None = None
        self._renew_after = 0.0
        self._lock = asyncio.Lock()
        self.fetched = 0

    def __repr__(self) -> str:  # no secret in tracebacks or logs
        return f"TokenClient({self.url!r}, client_id={self._client_id!r})"

    async def get(self) -> str:
        """A valid token; one fetch at a time, shared by all the relay's uploaders."""
        async with self._lock:
            if self._token is None or self._clock() >= self._renew_after:
                self._token = None
                self._token, lifetime, started = await self._fetch()
                self._renew_after = started + lifetime * self._renew_at
            return self._token

    def invalidate(self, token: str) -> None:
        """The server rejected ``token``: fetch a new one next time (unless already renewed)."""
        if self._token == token:
            self._token = None

    async def _fetch(self) -> tuple[str, float, float]:
        started = self._clock()
        form = {
            "grant_type": "client_credentials",
            "client_id": self._client_id,
            "client_secret": self._client_secret,
        }
        try:
            response = await self._http.post(self.url, data=form)
        except httpx.HTTPError as exc:
            raise Outage(f"token: {describe(exc)}") from None
        status = response.status_code
        if status == 429 or status >= 500:
            raise Outage(f"token: server answered {status}", retry_after(response))
        if status in (404, 405):  # a person must fix --server: retrying will not help
            raise Refused(f"token: no token endpoint at {self.url} (HTTP {status})")
        if 400 <= status < 500:
            raise Refused(f"token: client credentials refused ({detail(response)})")
        try:
            body = response.json()
            token = body["access_token"]
            lifetime = float(body.get("expires_in") or DEFAULT_LIFETIME)
        except (ValueError, KeyError, TypeError):
            raise Outage(f"token: unusable reply (HTTP {response.status_code})") from None
        if response.status_code != 200 or not isinstance(token, str) or not token:
            raise Outage(f"token: unusable reply (HTTP {response.status_code})")
        self.fetched += 1
        return token, lifetime, started
