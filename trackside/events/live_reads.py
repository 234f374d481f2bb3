"""Reading an event's live state: the snapshot, a session's results, diagnostics, charts.

Results of a session of the event's log come from its processor (started, replaying the log,
if need be), with the officials' corrections applied; the results kept when a session
finished serve sessions the log no longer has.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from trackside.errors import NotFound
from trackside.events import classification
from trackside.events.manager import ProcessorManager
from trackside.events.models import Event, RaceSession
from trackside.events.racelog import EventLive, LogRecord, RelaySource, SessionResult
from trackside.events.schemas import DiagnosticsOut, LoopCountsOut, ProcessorOut, SourceOut
from trackside.feeds.clock import format_duration, format_interval
from trackside.feeds.records import Passing
from trackside.feeds.rmonitor import parse_line
from trackside.store.leases import Lease
from trackside.timing.session import Session


async def session_results(
    db: AsyncSession, manager: ProcessorManager, event: Event, session_id: int
) -> dict[str, Any]:
    row = await db.get(RaceSession, session_id)
    if row is None or row.event_id != event.id:
        raise NotFound(f"no session {session_id} in event {event.id}")
    processor = await manager.get(event.id)  # replays the log: officials' decisions included
    index = processor.index_of(session_id)
    if index is not None and index < len(processor.engine.sessions):
        result = processor.session_result(index)
        official = classification.standing(processor, index)
        return {
            "sessionId": session_id,
            "finished": result["ended"],
            **result,
            "cars": official.pop("cars"),
            "classification": official,
        }
    kept = await db.scalar(select(SessionResult).where(SessionResult.session_id == session_id))
    if kept is None:
        raise NotFound(f"session {session_id} has no timing results")
    return {"sessionId": session_id, "finished": kept.finished, **orjson.loads(kept.data)}


CSV_COLUMNS = (
    ("Pos", "position"),
    ("No", "number"),
    ("Class", "class"),
    ("PIC", "class_position"),
    ("Name", "name"),
    ("Laps", "laps"),
    ("Total", "total_time_ms"),
    ("Best", "best_lap_ms"),
    ("Best on lap", "best_lap"),
    ("Last", "last_lap_ms"),
    ("Gap", "gap"),
    ("Diff", "difference"),
    ("Start", "starting_position"),
    ("Gained", "positions_gained"),
    ("Stale", "stale"),
    ("Penalty laps", "penalty_laps"),
    ("Warnings", "warnings"),
    ("Black flags", "black_flags"),
    ("Pit stops", "pit_stops"),
    # The officials' corrections (``timing.classification``), after the columns older readers know.
    ("Status", "status"),
    ("Penalty time", "penalty_ms"),
    ("Lap correction", "lap_correction"),
)


def results_csv(result: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([title for title, _ in CSV_COLUMNS])
    for car in result["cars"]:
        row = []
        for _, key in CSV_COLUMNS:
            if key == "gap":
                row.append(format_interval(car["gap_ms"], car["gap_laps"]))
            elif key == "difference":
                row.append(format_interval(car["difference_ms"], car["difference_laps"]))
            elif key.endswith("_ms"):
                row.append(format_duration(car[key]))
            elif car.get(key) is None:  # results kept before a field existed lack it
                row.append("")
            else:
                row.append(str(car[key]).lower() if isinstance(car[key], bool) else car[key])
        writer.writerow(row)
    return out.getvalue()


async def diagnostics(db: AsyncSession, manager: ProcessorManager, event: Event) -> DiagnosticsOut:
    processor = await manager.get(event.id)
    live = await db.get(EventLive, event.id)
    sources = (
        await db.scalars(
            select(RelaySource).where(RelaySource.event_id == event.id).order_by(RelaySource.source)
        )
    ).all()
    engine = processor.engine
    diag = processor.diagnostics
    loops = processor.scorer.loop_counts
    return DiagnosticsOut(
        event_id=event.id,
        live=bool(live and live.live),
        log_length=live.log_length if live else 0,
        last_record_at=live.last_record_at.isoformat() if live and live.last_record_at else None,
        sources=[
            SourceOut(
                source=s.source, acked_seq=s.acked_seq, last_seen_at=s.last_seen_at.isoformat()
            )
            for s in sources
        ],
        records=diag.records,
        records_by_type=dict(diag.by_type),
        bad_records=diag.bad,
        feed_errors=engine.errors,
        unknown_commands=engine.unknown,
        p3_frames=dict(diag.p3_frames),
        loops=LoopCountsOut(
            crossings=loops.crossings,
            resent=loops.resent,
            no_session=loops.no_session,
            unknown_loop=loops.unknown_loop,
            duplicates=loops.duplicates,
            out_of_order=loops.out_of_order,
        ),
        control_log_records=processor.scorer.control_records,
        samples=diag.samples,
        version=processor.state.version,
        epoch=processor.epoch,
        processor=_holder(await manager.holder(event.id)),
    )


def _holder(lease: Lease | None) -> ProcessorOut | None:
    if lease is None:
        return None
    since = datetime.fromtimestamp(lease.since_ms / 1000, UTC).isoformat()
    return ProcessorOut(node=lease.node, epoch=lease.epoch, since=since)


def live_session(manager: ProcessorManager, event: Event, index: int) -> Session:
    processor = manager.running(event.id)
    if processor is None or not 0 <= index < len(processor.engine.sessions):
        raise NotFound(f"event {event.id} has no live session {index}")
    return processor.engine.sessions[index]


@dataclass(frozen=True, slots=True)
class LapWindow:
    """One completed lap of a car, placed on the wall clock (epoch milliseconds)."""

    number: int
    lap_time_ms: int
    start_ms: int
    end_ms: int


async def lap_windows(
    db: AsyncSession,
    manager: ProcessorManager,
    event: Event,
    session_id: int,
    car_number: str,
) -> list[LapWindow]:
    """A car's completed laps in a session, cut by its crossings in the event log.

    Each crossing is placed on the wall clock by when its ``$J`` record arrived (matched on the
    car and the race time it carries); a lap runs from the crossing before it to its own. A
    crossing with no such record (a decoder passing) is placed at the session's opening
    record's arrival plus its race time.
    """
    processor = await manager.get(event.id)
    index = processor.index_of(session_id)
    if index is None:
        raise NotFound(f"session {session_id} of event {event.id} has no timing data")
    session = processor.engine.sessions[index]
    opened = processor.results.opened_at.get(index)
    car = next((c for c in session.cars.values() if c.number == car_number), None)
    if car is None or opened is None:
        raise NotFound(f"car {car_number} has no laps in session {session_id}")
    arrived: dict[int, int] = {}  # race time of a crossing -> when its record arrived
    rows = await db.execute(
        select(LogRecord.received_at_ms, LogRecord.data)
        .where(
            LogRecord.event_id == event.id,
            LogRecord.type == "rmonitor",
            LogRecord.data.startswith(f'$J,"{car.registration}"'),
        )
        .order_by(LogRecord.position)
    )
    for received_at_ms, data in rows:
        record = parse_line(data)
        if isinstance(record, Passing) and record.total_time_ms is not None:
            arrived.setdefault(record.total_time_ms, received_at_ms)
    windows = []
    for lap in car.laps:
        if lap.total_time_ms is None:
            continue
        end = arrived.get(lap.total_time_ms, opened + lap.total_time_ms)
        before = lap.total_time_ms - lap.lap_time_ms
        start = arrived.get(before, end - lap.lap_time_ms)
        windows.append(LapWindow(lap.number, lap.lap_time_ms, start, end))
    return windows
