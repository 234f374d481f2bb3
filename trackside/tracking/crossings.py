"""From fixes to timing: each new fix of a tracked participant is checked against the event's
checkpoints (the segment from the participant's fix before it), and every crossing is appended
to the event log as a ``checkpoint`` record with its interpolated time.

Fixes arriving late (older than one already stored) are kept but time nothing: the segment
they would split was timed already. The event's scorer times a checkpoint session from those
records (``timing.checkpoints.CheckpointTiming``: the live board, results and replay), and
``splits`` serves the same standings from the log for ``/tracking/splits``.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from trackside.events import ingest
from trackside.events.ingest import EventLocks, IncomingRecord
from trackside.events.manager import ProcessorManager
from trackside.feeds import checkpoint_records
from trackside.feeds.checkpoint_records import CheckpointCrossing
from trackside.timing.checkpoints import CheckpointShape, TrackPoint, crossing_time, standings
from trackside.tracking import course
from trackside.tracking.models import LocationFix
from trackside.tracking.service import Window
from trackside.tracking.writer import Stored

if TYPE_CHECKING:
    from trackside.tracking.live import Membership

log = logging.getLogger("trackside.tracking")

SOURCE = "tracking"
COURSE_TTL_S = 5.0


def _ms(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)


def _point(time_: datetime, lat: float, lon: float) -> TrackPoint:
    return TrackPoint(_ms(time_), lat, lon)


class CheckpointWatch:
    def __init__(
        self,
        db_factory: async_sessionmaker[AsyncSession],
        membership: Membership,
        event_locks: EventLocks,
        processors: ProcessorManager,
    ) -> None:
        self._db_factory = db_factory
        self._membership = membership
        self._locks = event_locks
        self._processors = processors
        self._courses: dict[int, list[CheckpointShape]] = {}
        self._loaded_at: float | None = None
        self.recorded = 0

    def invalidate(self) -> None:
        self._loaded_at = None

    async def _shapes(self, db: AsyncSession) -> dict[int, list[CheckpointShape]]:
        now = time.monotonic()
        if self._loaded_at is None or now - self._loaded_at > COURSE_TTL_S:
            rows = await course.by_event(db)
            self._courses = {event: [course.shape(r) for r in cps] for event, cps in rows.items()}
            self._loaded_at = now
        return self._courses

    async def fixes_stored(self, stored: list[Stored]) -> None:
        members, names = await self._membership.get()
        async with self._db_factory() as db:
            shapes = await self._shapes(db)
            if not shapes:
                return
            found: dict[int, list[CheckpointCrossing]] = {}
            for item in sorted(stored, key=lambda s: s.fix.time):
                fix = item.fix
                for window, _paused in members.get(fix.user_id, ()):
                    event_shapes = shapes.get(window.event_id)
                    if not event_shapes or not window.start <= fix.time <= window.end:
                        continue
                    name = names.get(fix.user_id, str(fix.user_id))
                    for place, checkpoint, at in await _crossings(db, window, item, event_shapes):
                        found.setdefault(window.event_id, []).append(
                            CheckpointCrossing(fix.user_id, name, checkpoint, at, place)
                        )
            for event_id, crossings in found.items():
                await self._append(db, event_id, crossings)

    async def _append(
        self, db: AsyncSession, event_id: int, crossings: list[CheckpointCrossing]
    ) -> None:
        now_ms = _ms(datetime.now(UTC))
        first = await ingest.acked_seq(db, event_id, SOURCE) + 1
        records = [
            IncomingRecord(first + i, now_ms, checkpoint_records.TYPE, checkpoint_records.encode(c))
            for i, c in enumerate(sorted(crossings, key=lambda c: c.time_ms))
        ]
        ack = await ingest.append(db, self._locks, event_id, SOURCE, records)
        self.recorded += ack.stored
        if ack.placed and self._processors.running(event_id):
            await self._processors.record_arrived(event_id)


async def _crossings(
    db: AsyncSession,
    window: Window,
    item: Stored,
    shapes: list[CheckpointShape],
) -> list[tuple[int, str, int]]:
    """The checkpoints the segment ending at this fix crosses: (place in the course, name,
    time)."""
    fix = item.fix
    # Stored before it (a smaller id) yet later in time: this fix arrived late. Ids, not what
    # is stored now, so the answer is the same however far behind the writer this runs.
    later = await db.scalar(
        select(LocationFix.id)
        .where(LocationFix.user_id == fix.user_id, LocationFix.time > fix.time)
        .where(LocationFix.time <= window.end, LocationFix.id < item.id)
        .limit(1)
    )
    if later is not None:
        return []  # a late fix: its stretch of track was timed already
    before = (
        await db.execute(
            select(LocationFix.time, LocationFix.latitude, LocationFix.longitude)
            .where(LocationFix.user_id == fix.user_id, LocationFix.time < fix.time)
            .where(LocationFix.time >= window.start, LocationFix.id < item.id)
            .order_by(LocationFix.time.desc())
            .limit(1)
        )
    ).first()
    if before is None:
        return []
    p = _point(*before)
    q = _point(fix.time, fix.latitude, fix.longitude)
    found = []
    for place, shape in enumerate(shapes):
        at = crossing_time(shape, p, q)
        if at is not None:
            found.append((place, shape.name, at))
    return found


async def splits(db: AsyncSession, event_id: int) -> tuple[list[str], list]:
    """The course's checkpoint names, and the standings scored from the event log."""
    names = [row.name for row in await course.of_event(db, event_id)]
    records = []
    for data in await ingest.source_data(db, event_id, SOURCE, checkpoint_records.TYPE):
        try:
            records.append(checkpoint_records.decode(data))
        except ValueError:
            log.warning("event %d: a checkpoint record that cannot be read", event_id)
    return names, standings(names, records)
