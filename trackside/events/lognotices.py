"""Notices that records joined an event's log, from whichever node stored them.

On PostgreSQL every transaction that places records sends ``NOTIFY trackside_log, '<event>
<node>'`` (delivered when it commits, never for a rollback); each node listens on one
connection of its own and hands the notices to its processors, so the node that leads an event
scores a batch another node accepted within milliseconds, without Redis. When the listening
connection is lost it is made again, and every processor catches up (notices sent meanwhile
are gone). SQLite has one node, which places every record itself: nothing to send.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import asyncpg
from sqlalchemy import Connection, bindparam, func, make_url, select
from sqlalchemy.ext.asyncio import AsyncSession

log = logging.getLogger(__name__)

CHANNEL = "trackside_log"
_RETRY_S = (0.2, 0.5, 1.0, 2.0, 5.0)
# The notice as an expression, for a statement that does more in the same round trip; its
# parameter ``notice`` is ``payload(event_id, node)``.
NOTICE = func.pg_notify(CHANNEL, bindparam("notice"))
_NOTIFY = select(NOTICE)


def payload(event_id: int, node: str) -> str:
    return f"{event_id} {node}"


async def notify(db: AsyncSession, event_id: int, node: str) -> None:
    """Tell every node (on commit) that ``event_id``'s log grew."""
    if db.get_bind().dialect.name == "postgresql":
        await db.execute(_NOTIFY, {"notice": payload(event_id, node)})


def send(connection: Connection, event_id: int, node: str) -> None:
    """``notify`` inside a synchronous transaction (``AsyncConnection.run_sync``)."""
    if connection.dialect.name == "postgresql":
        connection.execute(_NOTIFY, {"notice": payload(event_id, node)})


def parse(payload: str) -> tuple[int, str | None] | None:
    event, _, node = payload.partition(" ")
    try:
        return int(event), node or None
    except ValueError:
        return None


class LogNotices:
    """One listening connection to PostgreSQL; ``on_notice(event_id, node)`` per notice,
    ``on_gap()`` after each (re)connection."""

    def __init__(
        self,
        database_url: str,
        on_notice: Callable[[int, str | None], None],
        on_gap: Callable[[], None],
    ) -> None:
        url = make_url(database_url).set(drivername="postgresql")
        self._dsn = url.render_as_string(hide_password=False)
        self._on_notice = on_notice
        self._on_gap = on_gap
        self._task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()

    async def start(self, timeout_s: float = 10.0) -> None:
        self._task = asyncio.create_task(self._run(), name="log-notices")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.connected.wait(), timeout_s)

    def _notice(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        parsed = parse(payload)
        if parsed is not None:
            self._on_notice(*parsed)

    async def _run(self) -> None:
        failures = 0
        while True:
            try:
                conn = await asyncpg.connect(self._dsn, timeout=10)
            except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
                if failures == 0:
                    log.warning("log notices: cannot connect (%s); retrying", exc)
                await asyncio.sleep(_RETRY_S[min(failures, len(_RETRY_S) - 1)])
                failures += 1
                continue
            lost = asyncio.Event()
            try:
                conn.add_termination_listener(lambda _conn, lost=lost: lost.set())
                await conn.add_listener(CHANNEL, self._notice)
                failures = 0
                self.connected.set()
                self._on_gap()
                while not lost.is_set() and not conn.is_closed():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(lost.wait(), 5.0)
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("log notices: connection lost (%s)", exc)
            finally:
                self.connected.clear()
                with contextlib.suppress(Exception):
                    await conn.close(timeout=2)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
