"""Event processors: one scorer per live event, fed from the event's durable log.

A processor replays the stored log when it starts, then applies new records as ingest places
them, so killing the server and starting it again gives the same standings. Records of type
``rmonitor`` (a feed line), ``p3`` (a decoder frame as hex) and ``controllog`` (a race-control
log revision as JSON) are scored together (``timing.scorer``) with the event's loops and
entries; when those change, the processor scores the whole log again. After each batch
it turns the scorer's state into the next numbered live patch and publishes it once for every
subscriber. Sessions the feed opens become the event's sessions (``/events/{id}/sessions``);
their classification is kept as results whenever it changes state, and when the processor
stops. A processor stops after the relay has been silent for ``processor_idle_timeout_s``,
and the event is then marked not live.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from trackside.events import loops as track_config
from trackside.events.loops import TrackConfig
from trackside.events.models import RaceSession
from trackside.events.racelog import EventLive, LogRecord, SessionResult
from trackside.feeds import controllog_codec
from trackside.feeds.p3 import decode_hex_frame
from trackside.feeds.p3_records import P3Error, P3Passing, P3Status
from trackside.feeds.records import FeedError
from trackside.feeds.rmonitor import parse_lines
from trackside.live.broker import Broker
from trackside.live.patch import LiveState, Message
from trackside.live.snapshot import SnapshotBuilder
from trackside.timing.results import session_result
from trackside.timing.scorer import Scorer

log = logging.getLogger(__name__)

CHUNK = 5_000  # log rows read per query when catching up
MAX_SAMPLES = 50  # bad records kept for the diagnostics page


def topic(event_id: int) -> str:
    return f"event:{event_id}"


def frame(message: Message) -> bytes:
    """A message as it travels through the broker: its version, a newline, the wire bytes."""
    return b"%d\n%s" % (message.version, message.data)


def unframe(data: bytes) -> tuple[int, bytes]:
    head, _, body = data.partition(b"\n")
    return int(head), body


@dataclass(slots=True)
class Diagnostics:
    """What the processor could not score, counted and sampled; never a reason to stop."""

    records: int = 0
    by_type: Counter[str] = field(default_factory=Counter)
    p3_frames: Counter[str] = field(default_factory=Counter)  # passing, status, other, bad
    bad: int = 0
    samples: list[dict[str, Any]] = field(default_factory=list)

    def bad_record(self, row: LogRecord, reason: str) -> None:
        self.bad += 1
        if len(self.samples) < MAX_SAMPLES:
            self.samples.append(
                {
                    "source": row.source,
                    "seq": row.seq,
                    "type": row.type,
                    "data": row.data[:500],
                    "reason": reason,
                }
            )


class EventProcessor:
    """The scorer, the live state and the bookkeeping of one event."""

    def __init__(
        self,
        event_id: int,
        sessions: async_sessionmaker[AsyncSession],
        broker: Broker,
        config: TrackConfig | None = None,
    ) -> None:
        self.event_id = event_id
        self._sessions = sessions
        self._broker = broker
        config = config or TrackConfig()
        self.scorer = Scorer(layout=config.layout, entries=config.entries)
        self.engine = self.scorer.engine
        self._builder = SnapshotBuilder(self.scorer)
        self.state = LiveState(self._builder.build())
        self.applied = 0  # position of the last log record applied
        self.diagnostics = Diagnostics()
        self.last_activity = time.monotonic()
        self._lock = asyncio.Lock()
        self._session_ids: dict[int, int] = {}  # engine session index -> sessions.id
        self._opened_at: dict[int, int] = {}  # engine session index -> received_at_ms
        self._last_received_ms: int | None = None
        # index -> (finished, name, scorer revision once finished) last saved
        self._saved: dict[int, tuple[bool, str, int]] = {}

    @property
    def topic(self) -> str:
        return topic(self.event_id)

    async def catch_up(self) -> Message | None:
        """Apply every placed record not yet applied; publish the resulting patch."""
        async with self._lock:
            return await self._catch_up()

    async def reconfigure(self, config: TrackConfig) -> Message | None:
        """Score the whole log again with new loops or entries; subscribers get one patch from
        the old standings to the new."""
        async with self._lock:
            self.scorer = Scorer(layout=config.layout, entries=config.entries)
            self.engine = self.scorer.engine
            self._builder = SnapshotBuilder(self.scorer)
            self.applied = 0
            self.diagnostics = Diagnostics()
            self._opened_at.clear()
            self._saved.clear()
            return await self._catch_up()

    async def _catch_up(self) -> Message | None:
        async with self._sessions() as db:
            while True:
                rows = (
                    await db.scalars(
                        select(LogRecord)
                        .where(
                            LogRecord.event_id == self.event_id,
                            LogRecord.position > self.applied,
                        )
                        .order_by(LogRecord.position)
                        .limit(CHUNK)
                    )
                ).all()
                for row in rows:
                    self._apply(row)
                if len(rows) < CHUNK:
                    break
            await self._keep_sessions(db)
        message = self.state.update(self._builder.build())
        if message is not None:
            await self._broker.publish(self.topic, frame(message))
        return message

    def _apply(self, row: LogRecord) -> None:
        self.applied = row.position or self.applied
        self.diagnostics.records += 1
        self.diagnostics.by_type[row.type] += 1
        self._last_received_ms = row.received_at_ms
        read = _READERS.get(row.type)
        if read is None:
            self.diagnostics.bad_record(row, f"record type {row.type!r} is not scored")
            return
        before = len(self.engine.sessions)
        read(self, row)
        for index in range(before, len(self.engine.sessions)):
            self._opened_at[index] = row.received_at_ms

    def _rmonitor(self, row: LogRecord) -> None:
        for record in parse_lines([row.data]):
            self.scorer.apply(record)
            if type(record) is FeedError:
                self.diagnostics.bad_record(row, record.reason)

    def _p3(self, row: LogRecord) -> None:
        """A decoder frame: passings are crossings; status and other frames only counted."""
        record = decode_hex_frame(row.data)
        frames = self.diagnostics.p3_frames
        if isinstance(record, P3Error):
            frames["bad"] += 1
            self.diagnostics.bad_record(row, f"P3 frame: {record.reason}")
        elif isinstance(record, P3Passing):
            frames["passing"] += 1
            self.scorer.apply(record)
        else:
            frames["status" if isinstance(record, P3Status) else "other"] += 1

    def _controllog(self, row: LogRecord) -> None:
        try:
            record = controllog_codec.decode(row.data)
        except ValueError as exc:
            self.diagnostics.bad_record(row, f"control log record: {exc}")
            return
        self.scorer.apply(record)

    async def _keep_sessions(self, db: AsyncSession) -> None:
        """Give each feed session a row in the event's sessions; keep results as they settle."""
        changed = False
        for index, session in enumerate(self.engine.sessions):
            finished = session.ended
            # A finished session changes only when race control adds to it: save it again then.
            state = (finished, session.name, self.scorer.revision(index) if finished else -1)
            if self._saved.get(index) == state:
                continue
            opened = _when(self._opened_at.get(index) or self._last_received_ms)
            session_id = self._session_ids.get(index)
            row = await db.get(RaceSession, session_id) if session_id else None
            if row is None:
                row = RaceSession(
                    event_id=self.event_id,
                    name=session.name or f"Run {session.run}",
                    type=session.type,
                    start_time=opened,
                )
                db.add(row)
                await db.flush()
                self._session_ids[index] = row.id
            row.name = session.name or row.name
            row.type = session.type
            if finished and row.end_time is None:
                row.end_time = max(opened, _when(self._last_received_ms))
            await self._save_result(db, index, row.id, finished)
            self._saved[index] = state
            changed = True
        if changed:
            await db.commit()

    async def _save_result(self, db: AsyncSession, index: int, session_id: int, done: bool) -> None:
        data = orjson.dumps(self.session_result(index)).decode()
        result = await db.scalar(
            select(SessionResult).where(
                SessionResult.event_id == self.event_id, SessionResult.log_index == index
            )
        )
        if result is None:
            result = SessionResult(
                event_id=self.event_id, session_id=session_id, log_index=index, data=data
            )
            db.add(result)
        result.data = data
        result.finished = done
        result.updated_at = datetime.now(UTC)

    async def save_all(self) -> None:
        """Keep the current classification of every session (the processor is stopping)."""
        async with self._lock, self._sessions() as db:
            if await db.get(EventLive, self.event_id) is None:
                return  # the event (and its log) is gone
            await self._keep_sessions(db)
            for index in range(len(self.engine.sessions)):
                session_id = self._session_ids.get(index)
                if session_id is not None:
                    await self._save_result(
                        db, index, session_id, self.engine.sessions[index].ended
                    )
            await db.commit()

    def session_result(self, index: int) -> dict[str, Any]:
        """A session's classification, with what loops and race control add to it."""
        return session_result(self.engine.sessions[index], self.scorer.extras(index))

    def session_id_of(self, index: int) -> int | None:
        return self._session_ids.get(index)

    def index_of(self, session_id: int) -> int | None:
        for index, known in self._session_ids.items():
            if known == session_id:
                return index
        return None

    async def load_session_ids(self) -> None:
        """Sessions kept by an earlier run of this processor keep their ids after a restart."""
        async with self._sessions() as db:
            rows = (
                await db.execute(
                    select(
                        SessionResult.log_index, SessionResult.session_id, SessionResult.finished
                    ).where(SessionResult.event_id == self.event_id)
                )
            ).all()
        for index, session_id, _finished in rows:
            self._session_ids[index] = session_id


_READERS = {
    "rmonitor": EventProcessor._rmonitor,
    "p3": EventProcessor._p3,
    "controllog": EventProcessor._controllog,
}


def _when(ms: int | None) -> datetime:
    if ms is None:
        return datetime.now(UTC)
    return datetime.fromtimestamp(ms / 1000, UTC)


class ProcessorManager:
    """Starts a processor on an event's first record (or first reader), stops idle ones."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        broker: Broker,
        idle_timeout_s: float,
        sweep_interval_s: float | None = None,
    ) -> None:
        self._sessions = sessions
        self.broker = broker
        self.idle_timeout_s = idle_timeout_s
        self._sweep_interval_s = sweep_interval_s or max(0.05, min(30.0, idle_timeout_s / 4))
        self._processors: dict[int, EventProcessor] = {}
        self._starting: dict[int, asyncio.Lock] = {}
        self._sweeper: asyncio.Task[None] | None = None
        self._live: dict[int, bool] = {}

    def running(self, event_id: int) -> EventProcessor | None:
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
                async with self._sessions() as db:
                    config = await track_config.load(db, event_id)
                processor = EventProcessor(event_id, self._sessions, self.broker, config)
                await processor.load_session_ids()
                await processor.catch_up()
                self._processors[event_id] = processor
                self._ensure_sweeper()
        return processor

    async def record_arrived(self, event_id: int) -> EventProcessor:
        """Ingest placed new records: apply them and mark the event live."""
        processor = await self.get(event_id)
        processor.last_activity = time.monotonic()
        await processor.catch_up()
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
        async with self._sessions() as db:
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
            await self._set_live(event_id, False)

    async def _set_live(self, event_id: int, live: bool) -> None:
        # Known in memory after the first time: a live event's every batch must not pay a query.
        if self._live.get(event_id) is live:
            return
        self._live[event_id] = live
        async with self._sessions() as db:
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
