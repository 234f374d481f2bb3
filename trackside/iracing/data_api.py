"""iRacing's ``/data`` API over httpx: the bearer call, then the pre-signed ``link`` (fetched
without auth), ``data_url`` documents and ``chunk_info`` chunks concatenated.

A failed call (network, 5xx) is retried once. ``x-ratelimit-*`` headers feed one ``RateGate``
shared by every user of this server: when the limit is spent, calls wait for its reset if that
is near (bounded), else they fail with ``RateLimited`` saying when to come back.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx


class DataApiError(Exception):
    """A call that failed after its retry; ``status`` is iRacing's HTTP status, if any."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class TokenRejected(DataApiError):
    """401: the access token is expired or revoked."""


class Maintenance(DataApiError):
    """503: iRacing is down for maintenance."""


class RateLimited(DataApiError):
    """The rate limit is spent and resets later than we are willing to wait."""

    def __init__(self, reset_in_s: float) -> None:
        super().__init__(f"iRacing's rate limit is spent; it resets in {reset_in_s:.0f} s", 429)
        self.reset_in_s = reset_in_s


class RateGate:
    """What iRacing last said of the rate limit, shared across users."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self.limit: int | None = None
        self.remaining: int | None = None
        self.reset_at: float | None = None  # epoch seconds

    def observe(self, headers: httpx.Headers) -> None:
        def number(name: str) -> float | None:
            try:
                return float(headers[name])
            except (KeyError, ValueError):
                return None

        limit, remaining, reset = (
            number("x-ratelimit-limit"),
            number("x-ratelimit-remaining"),
            number("x-ratelimit-reset"),
        )
        if limit is not None:
            self.limit = int(limit)
        if remaining is not None:
            self.remaining = int(remaining)
        if reset is not None:
            self.reset_at = reset

    def spent(self, reset_at: float | None = None) -> None:
        """A 429: nothing remains until ``reset_at`` (or what the headers said)."""
        self.remaining = 0
        if reset_at is not None:
            self.reset_at = reset_at

    def wait_s(self) -> float:
        """Seconds to wait before the next call: 0 unless the limit is spent."""
        if self.remaining is None or self.remaining > 0 or self.reset_at is None:
            return 0.0
        return max(0.0, self.reset_at - self._clock())

    async def turn(self, max_wait_s: float) -> None:
        wait = self.wait_s()
        if wait <= 0:
            return
        if wait > max_wait_s:
            raise RateLimited(wait)
        await asyncio.sleep(wait)
        self.remaining = None  # reset passed: the next answer says what is left


class DataApi:
    """``GET {data_url}/data/{path}`` with a member's access token, fully resolved."""

    def __init__(
        self, http: httpx.AsyncClient, data_url: str, gate: RateGate, max_wait_s: float
    ) -> None:
        self._http = http
        self._url = data_url.rstrip("/")
        self._gate = gate
        self._max_wait_s = max_wait_s
        self.calls = 0

    async def get(self, path: str, access_token: str, **params: Any) -> Any:
        """The document a ``/data`` endpoint answers, its link and chunks followed."""
        query = {k: v for k, v in params.items() if v is not None}
        url = f"{self._url}/data/{path.lstrip('/')}"
        body = await self._call(url, query, {"Authorization": f"Bearer {access_token}"})
        return await self._resolve(body)

    async def _call(self, url: str, params: dict[str, Any], headers: dict[str, str]) -> Any:
        """One request, retried once when it fails; 429 waits for the reset once."""
        attempts = 0
        limited = False
        while True:
            attempts += 1
            await self._gate.turn(self._max_wait_s)
            try:
                self.calls += 1
                response = await self._http.get(url, params=params, headers=headers)
            except httpx.HTTPError as exc:
                if attempts < 2:
                    continue
                raise DataApiError(f"iRacing did not answer: {exc}") from exc
            self._gate.observe(response.headers)
            status = response.status_code
            if status == 429 or (status == 200 and _says_rate_limited(response)):
                if limited:
                    raise RateLimited(self._gate.wait_s())
                limited = True
                attempts -= 1  # waiting out the limit is not the one retry
                self._gate.spent()
                continue
            if status == 401:
                raise TokenRejected("iRacing refused the access token", 401)
            if status == 503:
                if attempts < 2:
                    continue
                raise Maintenance("iRacing is down for maintenance", 503)
            if status >= 500:
                if attempts < 2:
                    continue
                raise DataApiError(f"iRacing answered {status}", status)
            if status != 200:
                raise DataApiError(f"iRacing answered {status}: {response.text[:200]}", status)
            try:
                return response.json()
            except ValueError as exc:
                raise DataApiError("iRacing answered something that is not JSON") from exc

    async def _fetch(self, url: str) -> Any:
        """A pre-signed or data URL: no Authorization header (S3 refuses one)."""
        return await self._call(url, {}, {})

    async def _resolve(self, body: Any) -> Any:
        if isinstance(body, dict) and isinstance(body.get("link"), str) and len(body) <= 3:
            body = await self._fetch(body["link"])
        if isinstance(body, dict) and isinstance(body.get("data_url"), str):
            fetched = await self._fetch(body["data_url"])
            body = {**body, "data": fetched} if "data" not in body else body
        return await self._chunks(body)

    async def _chunks(self, body: Any) -> Any:
        """Concatenate ``chunk_info`` chunks into ``rows`` beside the document (top level, or
        under ``data`` for searches). No ``chunk_info``: no rows."""
        if not isinstance(body, dict):
            return body
        holder = body
        if not isinstance(body.get("chunk_info"), dict) and isinstance(body.get("data"), dict):
            holder = body["data"]
        info = holder.get("chunk_info")
        rows: list[Any] = []
        if isinstance(info, dict):
            base = str(info.get("base_download_url") or "")
            for name in info.get("chunk_file_names") or ():
                chunk = await self._fetch(base + str(name))
                if isinstance(chunk, list):
                    rows.extend(chunk)
        holder["rows"] = rows
        return body


def _says_rate_limited(response: httpx.Response) -> bool:
    return response.headers.get("content-type", "").startswith("text") and (
        "rate limit exceeded" in response.text.lower()
    )
