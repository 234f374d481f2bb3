"""``/relay``: the track's relay appends timing records to an event's log."""

from __future__ import annotations

import sqlite3
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from trackside.api.deps import (
    DbDep,
    PlatformDep,
    RelayCaller,
    RelayEvent,
    RelayWriter,
    relay_event_key,
)
from trackside.events import ingest
from trackside.events import service as events
from trackside.events.schemas import RelayAckOut, RelayBatchIn, Source
from trackside.platform import Platform

router = APIRouter(prefix="/relay", tags=["relay"])

# What the append raises when the event's row is gone: deleted after the caller's right to send
# its records was kept with the cached caller (``accounts.principals.CallerCache``).
EVENT_GONE = (sqlite3.IntegrityError, IntegrityError)


@router.post("/events/{eventId}/records", response_model=RelayAckOut)
async def append_records(
    body: RelayBatchIn,
    event: RelayEvent,
    caller: RelayCaller,
    _: RelayWriter,
    db: DbDep,
    platform: PlatformDep,
) -> RelayAckOut:
    """Append a batch to the event's log (durable before the reply); re-sent records are
    acknowledged, not stored twice. ``acked_seq``: every seq up to it is stored."""
    try:
        return await append_batch(platform, db, event.id, body)
    except EVENT_GONE:
        caller.allowed.pop(relay_event_key(event.id), None)  # asked again next time
        await db.rollback()
        await events.get_event(db, event.id)  # deleted meanwhile: 404
        raise


async def append_batch(
    platform: Platform, db: AsyncSession | None, event_id: int, body: RelayBatchIn
) -> RelayAckOut:
    """What a relay's POST of records does once it is allowed and its body is valid (the
    route's, and ``api.relay_lane``'s for the relay's steady state). ``db`` None: a session
    is opened only if the append needs one (``ingest.append``)."""
    records = [ingest.IncomingRecord(r.seq, r.received_at, r.type, r.data) for r in body.records]
    ack = await ingest.append(
        db, platform.event_locks, event_id, body.source, records, platform.db_factory
    )
    if ack.placed:
        await platform.processors.record_arrived(event_id, ack.records)
    return RelayAckOut(
        source=ack.source, stored=ack.stored, duplicates=ack.duplicates, acked_seq=ack.acked_seq
    )


@router.get("/events/{eventId}/records/ack", response_model=RelayAckOut)
async def acknowledged(
    event: RelayEvent, db: DbDep, source: Annotated[Source, Query()]
) -> RelayAckOut:
    """Where a relay resumes: the highest seq of ``source`` stored with no gap below it."""
    return RelayAckOut(source=source, acked_seq=await ingest.acked_seq(db, event.id, source))
