"""Sending one source's queued records to the server, in order, until acknowledged.

The server's acknowledgement (``acked_seq``: every seq up to it is stored) is the only truth
about what has arrived. So the uploader asks for it before sending anything — at start and
after every outage — and sends what the queue holds after it, in batches of at most 1,000.
Records the server already has are acknowledged again rather than stored twice, so resending
after a lost reply is harmless; that is what makes kill-and-restart lose and repeat nothing.

Replies (the relay ingest contract): 200 → advance; 401 → new token, once; 413/400/422 → the
batch is halved down to one record, then the record is reported as refused; 403/404 and bad
credentials → refused (loud, slow retry); 429 → wait ``Retry-After``; 5xx and transport errors
→ outage, retried with backoff. Meanwhile the sources keep reading into the queue.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import orjson

from trackside.relay.auth import TokenClient
from trackside.relay.backoff import Backoff
from trackside.relay.errors import Outage, Refused, check, describe, detail
from trackside.relay.queue import AsyncRelayQueue, QueuedRecord
from trackside.relay.sources import now_ms

log = logging.getLogger("trackside.relay")

MAX_BATCH = 1000
BAD_BATCH = frozenset({400, 413, 422})


@dataclass(slots=True)
class UploadStatus:
    """What the status line shows of a source's upload."""

    state: str = "starting"  # resuming, sending, caught up, outage, refused
    sent: int = 0  # records the server answered for in this run
    stored: int = 0  # of those, new to the server
    acked: int | None = None  # the server's last acknowledged seq
    acked_at: int | None = None  # epoch ms of that acknowledgement
    error: str | None = None
    renumbered: int = 0


class Uploader:
    def __init__(
        self,
        http: httpx.AsyncClient,
        tokens: TokenClient,
        queue: AsyncRelayQueue,
        server: str,
        event_id: str,
        source: str,
        kind: str,
        *,
        batch_limit: int = MAX_BATCH,
        backoff: Backoff | None = None,
        slow_retry: float = 60.0,
        idle_wait: float = 5.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        base = f"{server.rstrip('/')}/relay/events/{quote(event_id, safe='')}/records"
        self.records_url = base
        self.ack_url = f"{base}/ack"
        self.source = source
        self.kind = kind
        self.status = UploadStatus()
        self._http = http
        self._tokens = tokens
        self._queue = queue
        self._max_batch = min(batch_limit, MAX_BATCH)
        self._backoff = backoff or Backoff()
        self._slow_retry = slow_retry
        self._idle_wait = idle_wait
        self._sleep = sleep

    async def run(self) -> None:
        while True:
            try:
                await self._drain(await self._resume())
            except Outage as exc:
                self._report("outage", str(exc), logging.WARNING)
                wait = exc.retry_after
                await self._sleep(self._backoff.next() if wait is None else wait)
            except Refused as exc:
                self._report("refused", str(exc), logging.ERROR)
                await self._sleep(self._slow_retry)

    def _report(self, state: str, error: str, level: int) -> None:
        """Log a failure once, not at every retry of a long outage."""
        if error != self.status.error:
            log.log(level, "%s: %s", self.source, error)
        self.status.state = state
        self.status.error = error

    def _recovered(self) -> None:
        if self.status.error is not None:
            log.info("%s: the server takes records again", self.source)
            self.status.error = None

    async def _call(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """A request with the token; on 401 once more with a new token."""
        response: httpx.Response | None = None
        extra_headers = kwargs.pop("headers", {})
        for _ in range(2):
            token = await self._tokens.get()
            headers = {"Authorization": f"Bearer {token}", **extra_headers}
            try:
                response = await self._http.request(method, url, headers=headers, **kwargs)
            except httpx.HTTPError as exc:
                raise Outage(f"server: {describe(exc)}") from None
            if response.status_code != 401:
                return response
            self._tokens.invalidate(token)
        assert response is not None
        return response

    def _acked(self, seq: int) -> None:
        self.status.acked = seq
        self.status.acked_at = now_ms()

    async def _resume(self) -> int:
        """Ask the server what it holds; renumber the queue if it is behind the server."""
        if self.status.state not in ("outage", "refused"):  # those show until it works
            self.status.state = "resuming"
        response = await self._call("GET", self.ack_url, params={"source": self.source})
        check(response, "acknowledgement")
        acked = _int_field(response, "acked_seq")
        state = await self._queue.state(self.source)
        if acked > state.last_seq:
            moved = await self._queue.rebase(self.source, acked)
            self.status.renumbered += moved
            log.error(
                "%s: the server holds seq 1..%d but this queue only numbered %d: renumbered %d "
                "unsent records after %d (was the queue file replaced? does another relay send "
                "as %r to this event?)",
                self.source, acked, state.last_seq, moved, acked, self.source,
            )  # fmt: skip
        elif acked < state.acked_seq:
            log.warning(
                "%s: the server acknowledges %d, less than the %d it did before: resending",
                self.source, acked, state.acked_seq,
            )  # fmt: skip
        await self._queue.mark_acked(self.source, acked)
        self._acked(acked)
        return acked  # backoff is reset only once a batch is taken: the GET may work alone

    async def _drain(self, after: int) -> None:
        """Send everything after ``after``, then whatever is queued next, forever."""
        limit = self._max_batch
        while True:
            batch = await self._queue.batch(self.source, after, limit)
            if not batch:
                self.status.state = "caught up"
                self._backoff.reset()
                self._recovered()
                await self._queue.wait(self.source, self._idle_wait)
                continue
            self.status.state = "sending"
            response = await self._post(batch)
            if response.status_code in BAD_BATCH:
                reason = detail(response)
                if len(batch) == 1:
                    raise Refused(f"server refuses record seq {batch[0].seq}: {reason}")
                limit = max(1, len(batch) // 2)
                log.warning("%s: batch refused (%s); sending %d at a time", self.source,
                            reason, limit)  # fmt: skip
                continue
            check(response, "upload")
            acked = _int_field(response, "acked_seq")
            self.status.sent += len(batch)
            self.status.stored += _int_field(response, "stored")
            if acked <= after:
                raise Outage(f"server acknowledged none of seq {batch[0].seq}..{batch[-1].seq}")
            if acked > batch[-1].seq:
                self.status.renumbered += await self._queue.rebase(self.source, acked)
            await self._queue.mark_acked(self.source, acked)
            self._acked(acked)
            self._backoff.reset()
            self._recovered()
            after = acked
            limit = min(self._max_batch, limit * 2)

    async def _post(self, batch: list[QueuedRecord]) -> httpx.Response:
        body = {
            "source": self.source,
            "records": [
                {"seq": r.seq, "received_at": r.received_at, "type": self.kind, "data": r.data}
                for r in batch
            ],
        }
        return await self._call(
            "POST",
            self.records_url,
            content=orjson.dumps(body),
            headers={"Content-Type": "application/json"},
        )


def _int_field(response: httpx.Response, name: str) -> int:
    try:
        value = response.json()[name]
    except (ValueError, KeyError, TypeError):
        raise Outage(f"unusable reply from the server (no {name})") from None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise Outage(f"unusable reply from the server ({name}={value!r})")
    return value
