"""The processors of all events: started on an event's first record (or first reader),
stopped (their results kept, the event marked not live) after the relay has been silent for
``processor_idle_timeout_s``, by one sweeper task.

Each processor started gets a new ``epoch`` (greater than any this manager gave before, and
than the time in ms, so a restarted server does not reuse one); stopping one publishes the end
of its epoch on the event's topic, so every subscriber starts over. On start, ``reconcile``
puts the stored live flags right after a server died mid-event: an event whose last record is
older than the idle timeout is not live; a more recent one gets its processor back, stopped
when the relay has been silent long enough, as if the server had not stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from trackside.events import loops as track_config
from trackside.events.ingest import PlacedRecord
from trackside.events.processors import EventProcessor
from trackside.events.racelog import EventLive
from trackside.live.broker import Broker
from trackside.live.envelope import frame_end

log = logging.getLogger(__name__)


class ProcessorManager:
    """Starts a processor on an event's first record (or first reader), stops idle ones."""

    def __init__(
        self,
        db_factory: async_sessionmaker[AsyncSession],
        broker: Broker,
        idle_timeout_s: float,
        sweep_interval_s: float | None = None,
    ) -> None:
        self._db_factory = db_factory
        self.broker = broker
        self.idle_timeout_s = idle_timeout_s
        self._sweep_interval_s = sweep_interval_s or max(0.05, min(30.0, idle_timeout_s / 4))
        self._processors: dict[int, EventProcessor] = {}
        self._starting: dict[int, asyncio.Lock] = {}
        self._sweeper: asyncio.Task[None] | None = None
        self._live: dict[int, bool] = {}
        self._epoch = 0

    def _next_epoch(self) -> int:
        self._epoch = max(self._epoch + 1, time.time_ns() // 1_000_000)
        return self._epoch

    def running(self, event_id: int) -> EventProcessor | None:
        return self._processors.get(event_id)

    async def started(self, event_id: int) -> EventProcessor | None:
        """The running processor, once one being started has caught up; None if none runs
        (and none is started for this)."""
        lock = self._starting.get(event_id)
        if lock is not None and lock.locked():
            async with lock:
                pass
        return self._processors.get(event_id)

    async def get(self, event_id: int) -> EventProcessor:
        """The event's processor, started (and caught up with the stored log) if needed."""
        processor = self._processors.get(event_id)
        if processor is not None:
            return processor
        lock = self._starting.setdefault(event_id, asyncio.Lock())
        async with lock:
            processor = self._processors.get(event_id)
            if processor is None:
                async with self._db_factory() as db:
                    config = await track_config.load(db, event_id)
                processor = EventProcessor(
                    event_id, self._db_factory, self.broker, config, epoch=self._next_epoch()
                )
                await processor.load_session_ids()
                await processor.catch_up()
                self._processors[event_id] = processor
                self._ensure_sweeper()
        return processor

    async def record_arrived(
        self, event_id: int, placed: Sequence[PlacedRecord] = ()
    ) -> EventProcessor:
        """Ingest placed new records (``placed``: those records, when ingest has them all in
        hand): apply them and mark the event live."""
        processor = await self.get(event_id)
        processor.last_activity = time.monotonic()
        await processor.catch_up(placed or None)
        processor.last_activity = time.monotonic()  # scoring a long batch is not silence
        await self._set_live(event_id, True)
        return processor

    async def records_placed(self, event_id: int) -> None:
        """Records joined the log from the server itself (a control-log import): a running
        processor applies them now; one that is not running will when it starts."""
        processor = self._processors.get(event_id)
        if processor is not None:
            await processor.catch_up()

    async def reconfigure(self, event_id: int) -> None:
        """The event's loops or entries changed: a running processor scores its log again."""
        processor = self._processors.get(event_id)
        if processor is None:
            return
        async with self._db_factory() as db:
            config = await track_config.load(db, event_id)
        await processor.reconfigure(config)

    def discard(self, event_id: int) -> None:
        """Forget an event's processor without keeping anything (the event is being deleted)."""
        self._processors.pop(event_id, None)
        self._live.pop(event_id, None)

    async def stop(self, event_id: int) -> None:
        processor = self._processors.pop(event_id, None)
        if processor is None:
            return
        try:
            await processor.save_all()
        finally:
            try:
                await self._set_live(event_id, False)
            finally:
                # Its subscribers start over (on another epoch, when a processor runs again).
                with contextlib.suppress(Exception):
                    await self.broker.publish(processor.topic, frame_end(processor.epoch))

    async def reconcile(self) -> None:
        """After a start: events marked live whose last record is older than the idle timeout
        are not live; the others get their processor back, idle since their last record."""
        now = datetime.now(UTC)
        cutoff = now - timedelta(seconds=self.idle_timeout_s)
        async with self._db_factory() as db:
            await db.execute(
                update(EventLive)
                .where(EventLive.live.is_(True))
                .where((EventLive.last_record_at.is_(None)) | (EventLive.last_record_at < cutoff))
                .values(live=False)
                .execution_options(synchronize_session=False)
            )
            await db.commit()
            recent = (
                await db.execute(
                    select(EventLive.event_id, EventLive.last_record_at).where(
                        EventLive.live.is_(True)
                    )
                )
            ).all()
        for event_id, last_record_at in recent:
            try:
                processor = await self.get(event_id)
            except Exception:
                log.exception("event %s: restarting its processor failed", event_id)
                continue
            silent_s = max(0.0, (now - last_record_at).total_seconds())
            processor.last_activity = time.monotonic() - silent_s
            self._live[event_id] = True

    async def _set_live(self, event_id: int, live: bool) -> None:
        # Known in memory after the first time: a live event's every batch must not pay a query.
        if self._live.get(event_id) is live:
            return
        self._live[event_id] = live
        async with self._db_factory() as db:
            row = await db.get(EventLive, event_id)
            if row is None or row.live == live:
                return
            row.live = live
            await db.commit()

    def _ensure_sweeper(self) -> None:
        if self._sweeper is None or self._sweeper.done():
            self._sweeper = asyncio.create_task(self._sweep(), name="processor-sweeper")

    async def _sweep(self) -> None:
        while self._processors:
            await asyncio.sleep(self._sweep_interval_s)
            now = time.monotonic()
            for event_id, processor in list(self._processors.items()):
                if now - processor.last_activity > self.idle_timeout_s:
                    log.info("event %s: relay silent, processor stopped", event_id)
                    try:
                        await self.stop(event_id)
                    except Exception:  # a failed save must not kill the sweeper
                        log.exception("event %s: stopping its processor failed", event_id)

    async def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        for event_id in list(self._processors):
            await self.stop(event_id)
