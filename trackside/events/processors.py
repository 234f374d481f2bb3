"""Event processors: one scorer per live event, fed from the event's durable log.

A processor replays the stored log when it starts, then applies new records as ingest places
them, so killing the server and starting it again gives the same standings. Records are decoded by
their type (``feeds.registry``: ``rmonitor`` a feed line, ``p3`` a decoder frame as hex,
``controllog`` a race-control log revision as JSON, ``judge`` a judge's time or a manual
start or stop, ``checkpoint`` a GPS checkpoint crossing), as ``trackside replay`` decodes them, and
scored together (``timing.scorer``) with the event's loops and
entries; when those change, the processor scores the whole log again. After each batch
it turns the scorer's state into the next numbered live patch and publishes it once for every
subscriber (framed by ``live.envelope``). Each run of a processor has its own ``epoch``, carried
by every snapshot and patch: a new run numbers its versions from 0 again, and a subscriber
that sees another epoch starts over with a snapshot. The records of an accepted relay batch are
handed over in memory (``catch_up(placed)``): the processor reads the log only when it starts,
rescores, or was handed something that does not follow what it applied. Sessions and their
results are kept by ``events.results``; ``events.manager`` starts and stops processors.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from trackside.events.classification_book import ClassificationBook
from trackside.events.loops import TrackConfig
from trackside.events.racelog import LogRecord
from trackside.events.results import ResultKeeper
from trackside.feeds import registry
from trackside.live.broker import Broker, BrokerClosed
from trackside.live.envelope import frame, frame_snapshot, unframe
from trackside.live.mirror import LiveMirror
from trackside.live.patch import LiveState, Message
from trackside.live.snapshot import SnapshotBuilder
from trackside.store.leases import Lease
from trackside.timing.results import session_result
from trackside.timing.scorer import Scorer

log = logging.getLogger(__name__)

CHUNK = 5_000  # log rows read per query when catching up
MAX_SAMPLES = 50  # bad records kept for the diagnostics page


def topic(event_id: int) -> str:
    return f"event:{event_id}"


@dataclass(slots=True)
class Diagnostics:
    """What the processor could not score, counted and sampled; never a reason to stop."""

    records: int = 0
    by_type: Counter[str] = field(default_factory=Counter)
    # What sort of records a type's were, where it has several (P3: passing, status, other, bad)
    kinds: defaultdict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    bad: int = 0
    samples: list[dict[str, Any]] = field(default_factory=list)

    @property
    def p3_frames(self) -> Counter[str]:
        return self.kinds[registry.P3]

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
        db_factory: async_sessionmaker[AsyncSession],
        broker: Broker,
        config: TrackConfig | None = None,
        epoch: int = 0,
        lease: Lease | None = None,
        leading: bool = True,
    ) -> None:
        self.event_id = event_id
        # Leading: this node holds the event's lease, scores, keeps results and publishes;
        # else it follows: scores the log for reads, and mirrors the leader's live state.
        self.lease = lease
        self.leading = leading
        epoch = lease.epoch if lease is not None else epoch
        self.unpublished = False  # a publish failed (broker unreachable): send a snapshot
        self._db_factory = db_factory
        self._broker = broker
        config = config or TrackConfig()
        self.scorer = Scorer(layout=config.layout, entries=config.entries)
        self.engine = self.scorer.engine
        self._builder = SnapshotBuilder(self.scorer)
        self.classification = self._new_book()
        self.state: LiveState | LiveMirror = (
            LiveState(self.classification.stamp(self._builder.build()), epoch=epoch)
            if self.leading
            else LiveMirror()
        )
        self.applied = 0  # position of the last log record applied
        self.diagnostics = Diagnostics()
        self.last_activity = time.monotonic()
        self._lock = asyncio.Lock()
        self.results = ResultKeeper(event_id)

    @property
    def topic(self) -> str:
        return topic(self.event_id)

    @property
    def epoch(self) -> int:
        """The run whose versions the live state counts: this node's lease, or the leader's
        as mirrored."""
        return self.state.epoch

    async def catch_up(self, placed: Sequence[LogRecord] | None = None) -> Message | None:
        """Apply every placed record not yet applied; publish the resulting patch.

        ``placed``: the records ingest just placed, in position order (rows or
        ``events.ingest.PlacedRecord``). When they follow what was applied they are applied as
        given, without reading the log back; otherwise the log is read from the database.
        """
        async with self._lock:
            return await self._catch_up(placed)

    async def reconfigure(self, config: TrackConfig) -> Message | None:
        """Score the whole log again with new loops or entries; subscribers get one patch from
        the old standings to the new."""
        async with self._lock:
            self.scorer = Scorer(layout=config.layout, entries=config.entries)
            self.engine = self.scorer.engine
            self._builder = SnapshotBuilder(self.scorer)
            self.classification = self._new_book()
            self.applied = 0
            self.diagnostics = Diagnostics()
            self.results.reset()
            return await self._catch_up()

    async def _catch_up(self, placed: Sequence[LogRecord] | None = None) -> Message | None:
        if placed and placed[-1].position <= self.applied:
            return None  # already read from the log (the processor started after the commit)
        if placed and placed[0].position == self.applied + 1:
            for row in placed:
                self._apply(row)
            if self.leading and self.results.pending(self.scorer):
                async with self._db_factory() as db:
                    await self.results.keep(db, self.scorer)
            return await self._publish()
        async with self._db_factory() as db:
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
            if self.leading:
                await self.results.keep(db, self.scorer)
            elif len(self.results.session_ids) < len(self.engine.sessions):
                await self.results.load(db)  # the sessions the leader kept, by their ids
        return await self._publish()

    async def _publish(self) -> Message | None:
        state = self.state
        if not isinstance(state, LiveState):
            return None  # following: the leader publishes
        message = state.update(self.classification.stamp(self._builder.build()))
        if message is not None:
            await self._send(frame(message))
            # This node's fan-out tasks were just handed the message: let them send it before
            # the publisher carries on (answering the relay's POST can wait that long).
            await asyncio.sleep(0)
        return message

    async def announce(self) -> bool:
        """Publish the whole current state (a new epoch starts, or the broker is back after a
        failed publish): everyone who follows the event starts over from it."""
        if not isinstance(self.state, LiveState):
            return False
        return await self._send(frame_snapshot(self.state.snapshot_message()))

    async def _send(self, data: bytes) -> bool:
        """Publish, never failing the caller: records are durable before this runs, and the
        live push resumes with a snapshot once the broker answers again."""
        state = self.state
        assert isinstance(state, LiveState)
        try:
            await self._broker.publish(
                self.topic, data, latest=lambda: frame_snapshot(state.snapshot_message())
            )
        except BrokerClosed:
            return False
        except Exception as exc:
            if not self.unpublished:
                log.warning("event %s: live publish failed (%s); resent when it answers",
                            self.event_id, exc)  # fmt: skip
            self.unpublished = True
            return False
        self.unpublished = False
        return True

    def mirrored(self, data: bytes | None) -> bool:
        """A follower takes the leader's message (None: the broker lost messages); False when
        its mirror needs the leader's latest snapshot."""
        mirror = self.state
        if not isinstance(mirror, LiveMirror):
            return True
        if data is None:
            mirror.stale = True
            return False
        return mirror.take(unframe(data))

    def _apply(self, row: LogRecord) -> None:
        """Decode the row by its type (``feeds.registry``) and score what it gives."""
        # Once per stored record, ~20 times in a busy relay batch: kept to plain look-ups.
        self.applied = row.position or self.applied
        diagnostics = self.diagnostics
        diagnostics.records += 1
        name = row.type
        diagnostics.by_type[name] += 1
        received = self.results.last_received_ms = row.received_at_ms
        kind = registry.TYPES.get(name)
        if kind is None:
            diagnostics.bad_record(row, f"record type {name!r} is not scored")
            return
        if not kind.scored:
            self._classification(row)
            return
        records, bad, what = kind.decode(row.data)
        if bad:
            for reason in bad:
                diagnostics.bad_record(row, reason)
        if what is not None:
            diagnostics.kinds[name][what] += 1
        sessions = self.engine.sessions
        before = len(sessions)
        apply = self.scorer.apply
        for record in records:
            apply(record)
        if len(sessions) != before:
            for index in range(before, len(sessions)):
                self.results.opened_at[index] = received

    def _classification(self, row: LogRecord) -> None:
        """An official's declaration, correction or withdrawal (``events.classification``)."""
        refused = self.classification.apply(row.source, row.data)
        if refused is not None:
            self.diagnostics.bad_record(row, refused)

    def _new_book(self) -> ClassificationBook:
        return ClassificationBook(self.session_result, lambda: len(self.engine.sessions))

    async def save_all(self) -> None:
        """Keep the current classification of every session (the processor is stopping)."""
        if not self.leading:
            return
        async with self._lock, self._db_factory() as db:
            await self.results.save_all(db, self.scorer)

    def session_result(self, index: int) -> dict[str, Any]:
        """A session's classification, with what loops and race control add to it."""
        return session_result(self.engine.sessions[index], self.scorer.extras(index))

    def session_id_of(self, index: int) -> int | None:
        return self.results.session_ids.get(index)

    def index_of(self, session_id: int) -> int | None:
        for index, known in self.results.session_ids.items():
            if known == session_id:
                return index
        return None

    async def load_session_ids(self) -> None:
        """Sessions kept by an earlier run of this processor keep their ids after a restart."""
        async with self._db_factory() as db:
            await self.results.load(db)
