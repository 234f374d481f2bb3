"""Tracking while the server runs: the fix writer, and what each stored fix sets off.

``MapFeed`` sends each event's map the new positions of its participants, at most one per
participant every ``tracking_map_throttle_s`` (the newest wins; a late old fix never moves a
marker back), on the broker topic ``tracking:{eventId}``, so every node's map sockets get them.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from trackside.accounts import people as accounts
from trackside.config import Settings
from trackside.events.ingest import EventLocks
from trackside.events.manager import ProcessorManager
from trackside.live.broker import Broker
from trackside.tracking import service
from trackside.tracking.crossings import CheckpointWatch
from trackside.tracking.fixes import NewFix, default_tid
from trackside.tracking.service import Window
from trackside.tracking.writer import FixWriter, Stored

MEMBERSHIP_TTL_S = 5.0  # participants added on another node show up within this


def topic(event_id: int) -> str:
    return f"tracking:{event_id}"


def fix_card(fix: NewFix, username: str) -> dict[str, Any]:
    tid = (fix.attributes or {}).get("tid")
    return {
        "userId": fix.user_id,
        "name": username,
        "tid": tid if isinstance(tid, str) and tid else default_tid(username),
        "lat": fix.latitude,
        "lon": fix.longitude,
        "time": fix.time.isoformat(),
        "speed": fix.speed,
        "heading": fix.heading,
        "battery": fix.battery,
        "accuracy": fix.accuracy,
    }


class Membership:
    """Who is tracked in which event (and who paused), read again every few seconds."""

    def __init__(self, db_factory: async_sessionmaker[AsyncSession]) -> None:
        self._db_factory = db_factory
        self._members: dict[int, list[tuple[Window, bool]]] = {}
        self._names: dict[int, str] = {}
        self._loaded_at: float | None = None

    def invalidate(self) -> None:
        self._loaded_at = None

    async def get(self) -> tuple[dict[int, list[tuple[Window, bool]]], dict[int, str]]:
        now = time.monotonic()
        if self._loaded_at is None or now - self._loaded_at > MEMBERSHIP_TTL_S:
            async with self._db_factory() as db:
                self._members = await service.participations(db)
                self._names = await accounts.usernames(db, self._members)
            self._loaded_at = now
        return self._members, self._names


class MapFeed:
    def __init__(self, membership: Membership, broker: Broker, throttle_s: float) -> None:
        self._membership = membership
        self._broker = broker
        self.throttle_s = throttle_s
        self._pending: dict[int, dict[int, dict[str, Any]]] = {}
        self._shown: dict[tuple[int, int], datetime] = {}
        self._flusher: asyncio.Task[None] | None = None
        self.published = 0

    async def fixes_stored(self, stored: list[Stored]) -> None:
        members, names = await self._membership.get()
        for item in stored:
            fix = item.fix
            for window, paused in members.get(fix.user_id, ()):
                if paused or not window.start <= fix.time <= window.end:
                    continue
                key = (window.event_id, fix.user_id)
                shown = self._shown.get(key)
                if shown is not None and shown >= fix.time:
                    continue  # an old fix arriving late: the marker stays where it is
                self._shown[key] = fix.time
                name = names.get(fix.user_id, str(fix.user_id))
                self._pending.setdefault(window.event_id, {})[fix.user_id] = fix_card(fix, name)
        if not self._pending:
            return
        if self.throttle_s <= 0:
            await self.flush()
        elif self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_later())

    async def _flush_later(self) -> None:
        await asyncio.sleep(self.throttle_s)
        await self.flush()

    async def flush(self) -> None:
        pending, self._pending = self._pending, {}
        for event_id, cards in pending.items():
            message = {"type": "positions", "positions": list(cards.values())}
            await self._broker.publish(topic(event_id), orjson.dumps(message))
            self.published += 1

    async def close(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher


class Tracking:
    """The writer and its listeners, one per server process (``Platform.tracking``)."""

    def __init__(
        self,
        settings: Settings,
        db_factory: async_sessionmaker[AsyncSession],
        broker: Broker,
        event_locks: EventLocks,
        processors: ProcessorManager,
    ) -> None:
        self.settings = settings
        self.writer = FixWriter(
            db_factory,
            max_batch=settings.tracking_max_batch,
            gather_s=settings.tracking_batch_gather_s,
        )
        self.membership = Membership(db_factory)
        self.map = MapFeed(self.membership, broker, settings.tracking_map_throttle_s)
        self.checkpoints = CheckpointWatch(db_factory, self.membership, event_locks, processors)
        self.writer.listeners += [self.map.fixes_stored, self.checkpoints.fixes_stored]

    def participants_changed(self) -> None:
        """Participants, sharing or a course changed: read them again on the next fix."""
        self.membership.invalidate()
        self.checkpoints.invalidate()

    async def close(self) -> None:
        await self.writer.close()
        await self.map.close()
