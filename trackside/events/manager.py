"""The processors of all events on this node: one leader per event across the cluster.

An event's processor leads on the node that holds the event's lease (``store.leases``): it
scores, keeps results and publishes the live snapshot and patches. Any other node that needs the
event (a viewer, a read, a relay batch when no one leads) runs a follower: it scores the same
log for reads and mirrors the leader's live state from the broker, so its viewers get the
leader's epoch, versions and bytes. A tending task renews the leases held here and lets a
follower take over a lease whose holder stopped renewing (it died): the new leader replays the
log under a new epoch, and its first message is a snapshot, so every viewer starts over. On one
node (SQLite) every lease is granted at once and no follower ever runs.

Records reach the leader in memory when its own node accepted them, else by the database's
notice (``events.lognotices``, PostgreSQL's LISTEN/NOTIFY) and the tending task's catch-up.
Publishing never fails ingest: a leader whose publish failed (Redis down) sends a snapshot once
the broker answers again.

A processor stops (results kept, the event marked not live, its lease released) after the
relay has been silent for ``idle_timeout_s``; stopping publishes the end of its epoch, so every
subscriber starts over. On start, ``reconcile`` puts the stored live flags right after a server
died mid-event: an event whose last record is older than the idle timeout is not live; a more
recent one gets its processor back, stopped when the relay has been silent long enough.
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
from trackside.live.broker import Broker, BrokerClosed
from trackside.live.envelope import frame_end
from trackside.store.leases import Lease, Leases, LocalLeases

log = logging.getLogger(__name__)


def lease_name(event_id: int) -> str:
    return f"event:{event_id}"


class ProcessorManager:
    """Starts a processor on an event's first record (or first reader), stops idle ones, and
    keeps one leader per event across the nodes."""

    def __init__(
        self,
        db_factory: async_sessionmaker[AsyncSession],
        broker: Broker,
        idle_timeout_s: float,
        sweep_interval_s: float | None = None,
        leases: Leases | None = None,
    ) -> None:
        self._db_factory = db_factory
        self.broker = broker
        self.idle_timeout_s = idle_timeout_s
        self._sweep_interval_s = sweep_interval_s or max(0.05, min(30.0, idle_timeout_s / 4))
        self.leases: Leases = leases or LocalLeases("local", 3.0)
        self.node = self.leases.node
        self._tend_interval_s = self.leases.ttl_ms / 3000
        self._processors: dict[int, EventProcessor] = {}
        self._starting: dict[int, asyncio.Lock] = {}
        self._sweeper: asyncio.Task[None] | None = None
        self._tender: asyncio.Task[None] | None = None
        self._watches: dict[int, asyncio.Task[None]] = {}
        self._holders: dict[int, Lease] = {}  # the lease of events led elsewhere, as last read
        self._catching_up: dict[int, asyncio.Task[None]] = {}
        self._again: set[int] = set()
        self._live: dict[int, bool] = {}

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

    async def get(self, event_id: int, fresh: bool = True) -> EventProcessor:
        """The event's processor, started (and caught up with the stored log) if needed: the
        leader if this node may lead, else a follower. ``fresh``: a follower catches up with
        the log now, for a read of its scoring; viewers need only its mirror, kept by the
        broker, so a thousand joining viewers cost no query each."""
        processor = self._processors.get(event_id)
        if processor is not None:
            if fresh and not processor.leading:
                processor.last_activity = time.monotonic()
                await processor.catch_up()
            return processor
        async with self._starting.setdefault(event_id, asyncio.Lock()):
            return await self._try_lead(event_id, locked=True) or await self._follow(event_id)

    async def _try_lead(self, event_id: int, locked: bool = False) -> EventProcessor | None:
        """Lead the event if no other node does (None: it leads elsewhere, noted).
        ``locked``: the caller holds the event's starting lock."""
        if not locked:
            async with self._starting.setdefault(event_id, asyncio.Lock()):
                return await self._try_lead(event_id, locked=True)
        processor = self._processors.get(event_id)
        if processor is not None:
            return processor
        lease = await self.leases.acquire(lease_name(event_id))
        if lease is not None:
            return await self._lead(event_id, lease)
        holder = await self.leases.read(lease_name(event_id))
        if holder is not None:
            self._holders[event_id] = holder
        return None

    async def _lead(self, event_id: int, lease: Lease) -> EventProcessor:
        """Score the event here under ``lease``'s epoch; its snapshot goes out first."""
        self._holders.pop(event_id, None)
        async with self._db_factory() as db:
            config = await track_config.load(db, event_id)
        processor = EventProcessor(event_id, self._db_factory, self.broker, config, lease=lease)
        try:
            await processor.load_session_ids()
            await processor.catch_up()
        except BaseException:
            with contextlib.suppress(Exception):
                await self.leases.release(lease)
            raise
        await processor.announce()
        self._install(event_id, processor)
        log.info("event %s: leading on %s, epoch %s", event_id, self.node, lease.epoch)
        return processor

    async def _follow(self, event_id: int) -> EventProcessor:
        """Score the event's log for reads; mirror the leader's live state from the broker."""
        async with self._db_factory() as db:
            config = await track_config.load(db, event_id)
        processor = EventProcessor(event_id, self._db_factory, self.broker, config, leading=False)
        await processor.load_session_ids()
        await processor.catch_up()
        self._install(event_id, processor)
        ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._watches[event_id] = asyncio.create_task(
            self._watch(processor, ready), name=f"follow-{event_id}"
        )
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.shield(ready), 5.0)
        return processor

    def _install(self, event_id: int, processor: EventProcessor) -> None:
        old = self._processors.get(event_id)
        if old is not None and old is not processor:
            self._unwatch(event_id)
        self._processors[event_id] = processor
        if self._sweeper is None or self._sweeper.done():
            self._sweeper = asyncio.create_task(self._sweep(), name="processor-sweeper")
        if not isinstance(self.leases, LocalLeases) and (
            self._tender is None or self._tender.done()
        ):
            self._tender = asyncio.create_task(self._tend(), name="processor-leases")

    async def _watch(self, processor: EventProcessor, ready: asyncio.Future[None]) -> None:
        """A follower's subscription to the leader's messages, kept through broker outages."""
        failures = 0
        while True:
            lost = asyncio.Event()

            def take(
                data: bytes | None,
                processor: EventProcessor = processor,
                lost: asyncio.Event = lost,
            ) -> None:
                if data is not None:
                    processor.last_activity = time.monotonic()
                if not processor.mirrored(data):
                    lost.set()

            try:
                async with self.broker.subscribe(processor.topic, take):
                    failures = 0
                    await self._reload(processor)
                    if not ready.done():
                        ready.set_result(None)
                    while True:
                        await lost.wait()
                        lost.clear()
                        if processor.state.stale and not await self._reload(processor):
                            break  # the subscription itself was lost: subscribe again
            except asyncio.CancelledError:
                raise
            except BrokerClosed:
                return
            except Exception as exc:
                if failures == 0:
                    log.warning("event %s: following the leader failed (%s); retrying",
                                processor.event_id, exc)  # fmt: skip
            if not ready.done():
                ready.set_result(None)  # no leader's state yet: reads see the empty board
            await asyncio.sleep(min(0.1 * 2**failures, 2.0))
            failures += 1

    async def _reload(self, processor: EventProcessor) -> bool:
        """Load the leader's latest snapshot into a follower's mirror, and start this node's
        viewers over from it. False when the broker could not be read."""
        try:
            latest = await self.broker.latest(processor.topic)
        except BrokerClosed:
            raise
        except Exception:
            return False
        if latest is not None and processor.mirrored(latest):
            self.broker.deliver_local(processor.topic, latest)
        return True

    def _unwatch(self, event_id: int) -> None:
        watch = self._watches.pop(event_id, None)
        if watch is not None:
            watch.cancel()

    async def record_arrived(
        self, event_id: int, placed: Sequence[PlacedRecord] = ()
    ) -> EventProcessor | None:
        """Ingest placed new records (``placed``: those records, when ingest has them all in
        hand): the leader applies them; the event is live. When another node leads, the
        database's notice brings them to it and this node has nothing to do."""
        processor = self._processors.get(event_id)
        if processor is None:
            holder = self._holders.get(event_id)
            if holder is None or holder.expired:
                processor = await self._try_lead(event_id)
        if processor is not None:
            processor.last_activity = time.monotonic()
            if processor.leading:
                try:
                    await processor.catch_up(placed or None)
                except Exception:
                    # The batch is committed: the relay gets its acknowledgement, and what
                    # failed here (results another node's leader kept while this one stalled
                    # past its lease) is scored again from the log on the next catch-up.
                    log.exception("event %s: scoring a batch failed", event_id)
                processor.last_activity = time.monotonic()  # scoring a long batch is not silence
        await self._set_live(event_id, True)
        return processor

    async def records_placed(self, event_id: int) -> None:
        """Records joined the log from the server itself (a control-log import): a running
        processor applies them now; one that is not running will when it starts."""
        processor = self._processors.get(event_id)
        if processor is not None:
            await processor.catch_up()

    def log_grew(self, event_id: int, node: str | None) -> None:
        """The database says records joined an event's log (on ``node``): catch up, once per
        burst of notices. The leader's own batches are in hand already."""
        processor = self._processors.get(event_id)
        if processor is None or (processor.leading and node == self.node):
            return
        processor.last_activity = time.monotonic()
        task = self._catching_up.get(event_id)
        if task is not None and not task.done():
            self._again.add(event_id)
            return
        self._catching_up[event_id] = asyncio.create_task(self._catch_up_later(event_id))

    async def _catch_up_later(self, event_id: int) -> None:
        while True:
            self._again.discard(event_id)
            processor = self._processors.get(event_id)
            if processor is None:
                return
            try:
                await processor.catch_up()
            except Exception:
                log.exception("event %s: catching up with the log failed", event_id)
            if event_id not in self._again:
                return

    def caught_up_all(self) -> None:
        """Notices may have been missed (the database link was lost): catch every event up."""
        for event_id in list(self._processors):
            self.log_grew(event_id, None)

    async def holder(self, event_id: int) -> Lease | None:
        """Who leads the event now (its lease, unexpired), wherever it runs."""
        processor = self._processors.get(event_id)
        if processor is not None and processor.leading and processor.lease is not None:
            return processor.lease
        lease = await self.leases.read(lease_name(event_id))
        return lease if lease is not None and not lease.expired else None

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
        self._unwatch(event_id)
        self._live.pop(event_id, None)

    async def stop(self, event_id: int) -> None:
        processor = self._processors.pop(event_id, None)
        self._unwatch(event_id)
        if processor is None or not processor.leading:
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
                if processor.lease is not None:
                    with contextlib.suppress(Exception):
                        await self.leases.release(processor.lease)

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

    async def _sweep(self) -> None:
        while self._processors:
            await asyncio.sleep(self._sweep_interval_s)
            now = time.monotonic()
            for event_id, processor in list(self._processors.items()):
                if now - processor.last_activity > self.idle_timeout_s:
                    if processor.leading:
                        log.info("event %s: relay silent, processor stopped", event_id)
                    try:
                        await self.stop(event_id)
                    except Exception:  # a failed save must not kill the sweeper
                        log.exception("event %s: stopping its processor failed", event_id)

    async def _tend(self) -> None:
        """Renew the leases held here; take over those whose holder stopped renewing."""
        while self._processors:
            await asyncio.sleep(self._tend_interval_s)
            for event_id, processor in list(self._processors.items()):
                try:
                    await self._tend_one(event_id, processor)
                except Exception:
                    log.exception("event %s: tending its lease failed", event_id)

    async def _tend_one(self, event_id: int, processor: EventProcessor) -> None:
        if self._processors.get(event_id) is not processor:
            return
        if processor.leading and processor.lease is not None:
            renewed = await self.leases.renew(processor.lease)
            if renewed is None:
                # Lost (this node stalled past the TTL and another took over): follow instead.
                log.warning("event %s: lease lost on %s; following", event_id, self.node)
                self._processors.pop(event_id, None)
                await self.get(event_id)
                return
            processor.lease = renewed
            if processor.unpublished:
                await processor.announce()
            await processor.catch_up()  # whatever a missed notice did not bring
            return
        if time.monotonic() - processor.last_activity > self.idle_timeout_s:
            return  # an idle follower does not start a leader; it is about to stop
        lease = await self.leases.acquire(lease_name(event_id))
        if lease is None:
            return
        # The leader stopped renewing: lead from here, replaying the log under a new epoch.
        last_activity = processor.last_activity
        async with self._starting.setdefault(event_id, asyncio.Lock()):
            if self._processors.get(event_id) is not processor:
                await self.leases.release(lease)
                return
            leader = await self._lead(event_id, lease)
            leader.last_activity = last_activity

    async def close(self) -> None:
        for task in (self._sweeper, self._tender, *self._catching_up.values()):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        for event_id in list(self._processors):
            await self.stop(event_id)
