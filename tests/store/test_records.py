"""Rows as stored: instants come back aware and in UTC, and the database enforces its keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from trackside.events.models import Entry, Event, Organization, RaceSession
from trackside.platform import Platform

SUMMER = timezone(timedelta(hours=2))


async def test_instants_round_trip_as_utc(platform: Platform) -> None:
    async with platform.db_factory() as db:
        org = Organization(name="Club", description="")
        db.add(org)
        await db.flush()
        start = datetime(2025, 6, 1, 11, 0, tzinfo=SUMMER)
        db.add(
            Event(organization_id=org.id, name="E", start_date=start, end_date=start, location="")
        )
        await db.commit()
    async with platform.db_factory() as db:
        event = await db.scalar(select(Event))
        assert event is not None
        assert event.start_date == datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
        assert event.start_date.utcoffset() == timedelta(0)
        assert event.created_at.tzinfo is not None


async def test_naive_instants_are_refused(platform: Platform) -> None:
    async with platform.db_factory() as db:
        db.add(Organization(name="Club", description="", created_at=datetime(2025, 1, 1)))
        with pytest.raises(Exception, match="naive datetime"):
            await db.commit()


async def test_foreign_keys_and_cascades(platform: Platform) -> None:
    async with platform.db_factory() as db:
        db.add(Entry(event_id=12345, number="1", driver_name="", team_name=""))
        with pytest.raises(IntegrityError):
            await db.commit()
    async with platform.db_factory() as db:
        org = Organization(name="Club", description="")
        db.add(org)
        await db.flush()
        when = datetime(2025, 6, 1, tzinfo=UTC)
        event = Event(organization_id=org.id, name="E", start_date=when, end_date=when)
        db.add(event)
        await db.flush()
        db.add(RaceSession(event_id=event.id, name="R", type="race", start_time=when))
        await db.commit()
        await db.delete(event)
        await db.commit()
        assert (await db.scalars(select(RaceSession))).all() == []
