"""The track-side configuration tables: an event's loops and control-log source go with it."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from trackside.controllog import source as controllog_config
from trackside.controllog.models import ControlLogSource
from trackside.controllog.source import SourceSpec
from trackside.events import loops as track_config
from trackside.events.loops import LoopSpec
from trackside.events.models import Event, EventLoop, Organization
from trackside.platform import Platform
from trackside.timing.loops import LoopKind


async def test_loops_and_source_are_stored_and_deleted_with_their_event(
    platform: Platform,
) -> None:
    when = datetime(2025, 6, 1, tzinfo=UTC)
    async with platform.db_factory() as db:
        org = Organization(name="Club", description="")
        db.add(org)
        await db.flush()
        event = Event(organization_id=org.id, name="E", start_date=when, end_date=when)
        db.add(event)
        await db.commit()
        loops = [LoopSpec("SF", "start_finish", 2**32 - 1), LoopSpec("Pit", "pit_in", 7, 2)]
        await track_config.replace_loops(db, event.id, loops)
        spec = SourceSpec(
            "http://example.org/log.csv", 15.0, {"cars": ["A", "B"]}, [("x", "laps:3")]
        )
        await controllog_config.put(db, event.id, spec)

    async with platform.db_factory() as db:
        config = await track_config.load(db, event.id)
        assert [
            (loop.name, loop.kind, loop.decoder_id, loop.loop_id) for loop in config.layout.loops
        ] == [
            ("SF", LoopKind.START_FINISH, 2**32 - 1, None),
            ("Pit", LoopKind.PIT_IN, 7, 2),
        ]
        source = await db.get(ControlLogSource, event.id)
        assert source is not None and controllog_config.to_spec(source) == SourceSpec(
            "http://example.org/log.csv", 15.0, {"cars": ["A", "B"]}, [("x", "laps:3")], None
        )
        mapping, rules = controllog_config.reading(source)
        assert mapping.cars == ("A", "B") and rules.classify("x").laps == 3
        await db.delete(await db.get(Event, event.id))
        await db.commit()
        assert (await db.scalars(select(EventLoop))).all() == []
        assert (await db.scalars(select(ControlLogSource))).all() == []
