"""Polls each event's race-control log URL at its interval and imports what changed.

One task per event with a URL, started with the server and whenever the source is put; it
ends when the source is deleted (or its event). A poll that fails (refused, timed out, not
200, not a CSV) is recorded on the source (``lastStatus``/``lastError``) and tried again at the
next interval: the log's host may come back. Nothing a poll finds unchanged is appended.
URLs are fetched through ``controllog.fetch``: no private addresses, bounded redirects and size.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from trackside.controllog.fetch import FetchRefused, TooLarge, fetch
from trackside.controllog.models import ControlLogSource
from trackside.controllog.service import ControlLogs

log = logging.getLogger(__name__)

TIMEOUT_S = 20.0
RETRY_S = 30.0  # after a poll that failed before its interval was known
MAX_LOG_BYTES = 8 * 1024 * 1024  # a control log is a few hundred rows; refuse a runaway


class ControlLogPoller:
    def __init__(
        self,
        db_factory: async_sessionmaker[AsyncSession],
        control_logs: ControlLogs,
        *,
        allow_private: bool = False,
    ) -> None:
        self._db_factory = db_factory
        self._control_logs = control_logs
        self._allow_private = allow_private  # TRACKSIDE_FETCH_ALLOW_PRIVATE
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._client: httpx.AsyncClient | None = None

    async def start(self) -> None:
        """Poll every configured source (the server is starting)."""
        async with self._db_factory() as db:
            events = (
                await db.scalars(
                    select(ControlLogSource.event_id).where(ControlLogSource.url.is_not(None))
                )
            ).all()
        for event_id in events:
            self.configure(event_id)

    def configure(self, event_id: int) -> None:
        """The event's source changed: poll it anew (now, then at its interval)."""
        self.stop(event_id)
        self._tasks[event_id] = asyncio.create_task(
            self._run(event_id), name=f"control-log-poll-{event_id}"
        )

    def stop(self, event_id: int) -> None:
        task = self._tasks.pop(event_id, None)
        if task is not None:
            task.cancel()

    def polling(self, event_id: int) -> bool:
        task = self._tasks.get(event_id)
        return task is not None and not task.done()

    async def _run(self, event_id: int) -> None:
        interval = RETRY_S
        while True:
            try:
                polled = await self.poll(event_id)
            except Exception:  # the database away for a moment: polling goes on
                log.exception("event %s: control log poll failed", event_id)
            else:
                if polled is None:
                    if self._tasks.get(event_id) is asyncio.current_task():
                        del self._tasks[event_id]
                    return
                interval = polled
            await asyncio.sleep(interval)

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
            self._client = httpx.AsyncClient(timeout=TIMEOUT_S, follow_redirects=False)
        return self._client

    async def close(self) -> None:
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._client is not None:
            await self._client.aclose()
            self._client = None
