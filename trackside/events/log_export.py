"""An event's log as it was scored: every placed record, in log order, one JSON object a line.

The export is what ``trackside replay`` reads to score an event away from the server: each
line is ``{"position", "source", "seq", "receivedAt", "type", "data"}`` with ``data`` the text
stored (an RMonitor line, a P3 frame as hex, a race-control revision as JSON …). Records that
wait behind a gap in their source's sequence are not placed yet, so not scored, and not here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from trackside.events.racelog import LogRecord

CHUNK = 5_000  # rows read per query
MEDIA_TYPE = "application/x-ndjson"


async def jsonl(
    db_factory: async_sessionmaker[AsyncSession], event_id: int
) -> AsyncIterator[bytes]:
    """The log a chunk of lines at a time (its own database session: it outlives the request's)."""
    after = 0
    columns = (
        LogRecord.position,
        LogRecord.source,
        LogRecord.seq,
        LogRecord.received_at_ms,
        LogRecord.type,
        LogRecord.data,
    )
    while True:
        async with db_factory() as db:
            rows = (
                await db.execute(
                    select(*columns)
                    .where(LogRecord.event_id == event_id, LogRecord.position > after)
                    .order_by(LogRecord.position)
                    .limit(CHUNK)
                )
            ).all()
        if not rows:
            return
        yield b"".join(
            orjson.dumps(
                {
                    "position": position,
                    "source": source,
                    "seq": seq,
                    "receivedAt": received_at,
                    "type": kind,
                    "data": data,
                }
            )
            + b"\n"
            for position, source, seq, received_at, kind, data in rows
        )
        if len(rows) < CHUNK:
            return
        after = rows[-1][0]
