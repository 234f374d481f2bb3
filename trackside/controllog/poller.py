"""Polls each event's race-control log URL at its interval and imports what changed.

In a cluster one node polls each event: the one holding the lease ``controllog:{eventId}``
(``store.leases``). It renews the lease every ``ttl/3`` while it polls, reading the source at
each tick so a URL or interval changed through another node takes effect at once; when it
dies, another node takes the lease within about a TTL (every node looks for sources nobody
polls every ``ttl/2``) and polls from then on. A node that put a source polls it at once if it
can take the lease, else the holder sees the change at its next tick.

A poll that fails (refused, timed out, not 200, not a CSV) is recorded on the source
(``lastStatus``/``lastError``) and tried again at the next interval: the log's host may come
back. Nothing a poll finds unchanged is appended. URLs are fetched through ``controllog.fetch``:
no private addresses, bounded redirects and size.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import UTC, datetime

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from trackside import __version__
from trackside.controllog.fetch import FetchRefused, TooLarge, fetch
from trackside.controllog.models import ControlLogSource
from trackside.controllog.service import ControlLogs
from trackside.store.leases import Lease, Leases

log = logging.getLogger(__name__)

TIMEOUT_S = 20.0
MAX_LOG_BYTES = 8 * 1024 * 1024  # a control log is a few hundred rows; refuse a runaway
LEASE_PREFIX = "controllog:"


def lease_name(event_id: int) -> str:
    return f"{LEASE_PREFIX}{event_id}"


class ControlLogPoller:
    def __init__(
        self,
        db_factory: async_sessionmaker[AsyncSession],
        control_logs: ControlLogs,
        leases: Leases,
        *,
        allow_private: bool = False,
    ) -> None:
        self._db_factory = db_factory
        self._control_logs = control_logs
        self._leases = leases
        self._allow_private = allow_private  # TRACKSIDE_FETCH_ALLOW_PRIVATE
        self._tick_s = leases.ttl_ms / 3000  # renew three times per TTL
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._changed: dict[int, asyncio.Event] = {}
        self._finder: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None

    async def start(self) -> None:
        """Poll the configured sources nobody polls, and keep looking for such (the server
        is starting)."""
        await self._take_unpolled()
        self._finder = asyncio.create_task(self._find(), name="control-log-finder")

    def configure(self, event_id: int) -> None:
        """The event's source changed: poll it now if this node polls it or can."""
        changed = self._changed.get(event_id)
        if changed is not None and self.polling(event_id):
            changed.set()
            return
        self._changed[event_id] = asyncio.Event()
        self._tasks[event_id] = asyncio.create_task(
            self._run(event_id), name=f"control-log-poll-{event_id}"
        )

    def stop(self, event_id: int) -> None:
        self._changed.pop(event_id, None)
        task = self._tasks.pop(event_id, None)
        if task is not None:
            task.cancel()

    def polling(self, event_id: int) -> bool:
        task = self._tasks.get(event_id)
        return task is not None and not task.done()

    async def _find(self) -> None:
        while True:
            await asyncio.sleep(self._tick_s * 1.5)
            try:
                await self._take_unpolled()
            except Exception:  # the database away for a moment: looking goes on
                log.exception("looking for control logs to poll failed")

    async def _take_unpolled(self) -> None:
        async with self._db_factory() as db:
            events = (
                await db.scalars(
                    select(ControlLogSource.event_id).where(ControlLogSource.url.is_not(None))
                )
            ).all()
        # A lease under this node's own name that no task of ours holds was left by this node
        # before a restart: taken again at once.
        others = {
            lease.name
            for lease in await self._leases.held(LEASE_PREFIX)
            if lease.node != self._leases.node
        }
        for event_id in events:
            if not self.polling(event_id) and lease_name(event_id) not in others:
                self.configure(event_id)

    async def _run(self, event_id: int) -> None:
        """Poll while this node holds the event's lease and the source has a URL."""
        try:
            lease = await self._leases.acquire(lease_name(event_id))
        except Exception:  # the database away: the next look for unpolled sources tries again
            log.exception("event %s: taking the control log lease failed", event_id)
            return
        if lease is None:
            return  # another node polls it
        changed = self._changed.setdefault(event_id, asyncio.Event())
        polled: tuple[str, float] | None = None  # the (url, interval) of the last poll
        due = renewed_at = time.monotonic()  # of the next poll, of the last renewal
        poll: asyncio.Task[None] | None = None
        try:
            while True:
                source = await self._source(event_id)
                if source is False:
                    return  # deleted, or uploads only
                now = time.monotonic()
                wanted = changed.is_set() or source != polled or now >= due
                if poll is None and source is not None and wanted:
                    changed.clear()
                    polled = source
                    poll = asyncio.create_task(self._poll_now(event_id))
                renew_at = renewed_at + self._tick_s
                if poll is not None:
                    await asyncio.wait([poll], timeout=max(0.0, renew_at - now))
                elif source is not None:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(changed.wait(), max(0.0, min(renew_at, due) - now))
                else:
                    await asyncio.sleep(max(0.0, renew_at - now))
                if poll is not None and poll.done():
                    poll = None
                    due = time.monotonic() + (polled[1] if polled else 0.0)
                if time.monotonic() >= renew_at:
                    renewed = await self._renew(lease)
                    if renewed is None:
                        log.warning("event %s: control log lease lost; polling stops", event_id)
                        return
                    lease, renewed_at = renewed, time.monotonic()
        finally:
            if poll is not None:
                poll.cancel()
            if self._tasks.get(event_id) is asyncio.current_task():
                del self._tasks[event_id]
            with contextlib.suppress(Exception):
                await asyncio.shield(self._leases.release(lease))

    async def _source(self, event_id: int) -> tuple[str, float] | bool | None:
        """The source's (url, interval); False when there is none to poll, None when the
        database did not answer (polling goes on)."""
        try:
            async with self._db_factory() as db:
                source = await db.get(ControlLogSource, event_id)
                if source is None or source.url is None:
                    return False
                return source.url, source.interval_s
        except Exception:
            log.exception("event %s: reading the control log source failed", event_id)
            return None

    async def _renew(self, lease: Lease) -> Lease | None:
        """The lease renewed; the same while the database is away and the lease lasts."""
        try:
            return await self._leases.renew(lease)
        except Exception:
            log.exception("%s: renewing the lease failed", lease.name)
            return None if lease.expired else lease

    async def _poll_now(self, event_id: int) -> None:
        try:
            await self.poll(event_id)
        except Exception:  # the database away for a moment: polling goes on
            log.exception("event %s: control log poll failed", event_id)

    async def poll(self, event_id: int) -> float | None:
        """Fetch and import once; the wait until the next poll, None when not to poll."""
        async with self._db_factory() as db:
            source = await db.get(ControlLogSource, event_id)
            if source is None or source.url is None:
                return None
            url, interval = source.url, source.interval_s
        status, error = await self._fetch_and_import(event_id, url)
        async with self._db_factory() as db:
            done = await db.execute(
                update(ControlLogSource)
                .where(ControlLogSource.event_id == event_id)
                .values(
                    last_polled_at=datetime.now(UTC),
                    last_status=status[:200],
                    last_error=error,
                    polls=ControlLogSource.polls + 1,
                )
            )
            await db.commit()
        return interval if done.rowcount else None  # type: ignore[attr-defined]

    async def _fetch_and_import(self, event_id: int, url: str) -> tuple[str, str | None]:
        try:
            response = await fetch(
                self._http(), url, max_bytes=MAX_LOG_BYTES, allow_private=self._allow_private
            )
        except FetchRefused as exc:
            return "refused", f"not fetched: {exc}"
        except TooLarge:
            return "too large", f"the log is over {MAX_LOG_BYTES} bytes"
        except httpx.HTTPError as exc:
            return "unreachable", f"{type(exc).__name__}: {exc}".rstrip(": ")
        if response.status != 200:
            return f"HTTP {response.status}", f"the log URL answered {response.status}"
        try:
            async with self._db_factory() as db:
                result = await self._control_logs.import_csv(db, event_id, response.body)
        except Exception:  # a failed import must not end the polling
            log.exception("event %s: control log import failed", event_id)
            return "import failed", "the import failed on the server; see its log"
        summary = (
            f"ok: {result.rows} rows, {result.new} new, {result.changed} changed, "
            f"{result.removed} removed, {result.bad_rows} bad"
        )
        return summary, None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            # Redirects are followed by fetch(), which checks every hop.
            # The node's name lets race control's web server tell which node polls.
            agent = f"trackside/{__version__} (node {self._leases.node})"
            self._client = httpx.AsyncClient(
                timeout=TIMEOUT_S, follow_redirects=False, headers={"User-Agent": agent}
            )
        return self._client

    async def close(self) -> None:
        tasks = list(self._tasks.values())
        if self._finder is not None:
            tasks.append(self._finder)
            self._finder = None
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._client is not None:
            await self._client.aclose()
            self._client = None
