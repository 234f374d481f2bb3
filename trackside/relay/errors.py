"""How a server reply or failure steers the relay's retries: an outage or a refusal.

An outage (connection failure, 5xx, 429) passes by itself: keep queueing, retry with backoff
(or when the server said, ``Retry-After``), then ask for the acknowledgement again. A refusal
(bad credentials, client not allowed for the event, no such event) needs a person: it is
reported loudly and retried slowly, while the relay keeps reading and queueing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

MAX_RETRY_AFTER = 600.0


class Outage(Exception):
    """The server is down or busy; ``retry_after`` is the wait it asked for, if any."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class Refused(Exception):
    """The server will not take this relay's records until someone changes something."""


def retry_after(response: httpx.Response) -> float | None:
    """Seconds from a ``Retry-After`` header (delay or HTTP date), bounded; None if absent."""
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def detail(response: httpx.Response) -> str:
    """The reason a server gave in its JSON body (``detail`` or OAuth2 ``error``), shortened."""
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase or f"HTTP {response.status_code}"
    if isinstance(body, dict):
        for key in ("detail", "error_description", "error"):
            if body.get(key):
                return str(body[key])[:300]
    return str(body)[:300]


def describe(exc: BaseException) -> str:
    """A transport failure in a few words (never the request, which may carry the secret)."""
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx.ConnectError):
        return "cannot connect"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "connection lost"
    return type(exc).__name__


def check(response: httpx.Response, what: str) -> None:
    """Raise the Outage or Refused that a non-200 reply means."""
    status = response.status_code
    if status == 200:
        return
    if status == 429:
        raise Outage(f"{what}: server busy (429)", retry_after(response))
    if status >= 500:
        raise Outage(f"{what}: server error {status}", retry_after(response))
    meaning = {
        401: "not authorized even with a new token",
        403: "this client is not allowed to send to this event",
        404: "no such event on the server",
    }.get(status, f"HTTP {status}")
    raise Refused(f"{what}: {meaning} ({detail(response)})")
