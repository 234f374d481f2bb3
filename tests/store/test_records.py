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
    async with platform.sessions() as session:
        org = Organization(name="Club", description="")
        session.add(org)
        await session.flush()
        start = datetime(2025, 6, 1, 11, 0, tzinfo=SUMMER)
        session.add(
            Event(organization_id=org.id, name="E", start_date=start, end_date=start, location="")
        )
        await session.commit()
    async with platform.sessions() as session:
        event = await session.scalar(select(Event))
        assert event is not None
        assert event.start_date == datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
        assert event.start_date.utcoffset() == timedelta(0)
        assert event.created_at.tzinfo is not None


async def test_naive_instants_are_refused(platform: Platform) -> None:
    async with platform.sessions() as session:
        session.add(Organization(name="Club", description="", created_at=datetime(2025, 1, 1)))
        with pytest.raises(Exception, match="naive datetime"):
            await session.commit()


async def test_foreign_keys_and_cascades(platform: Platform) -> None:
    async with platform.sessions() as session:
        session.add(Entry(event_id=12345, number="1", driver_name="", team_name=""))
        with pytest.raises(IntegrityError):
            await session.commit()
    async with platform.sessions() as session:
        org = Organization(name="Club", description="")
        session.add(org)
        await session.flush()
        when = datetime(2025, 6, 1, tzinfo=UTC)
        event = Event(organization_id=org.id, name="E", start_date=when, end_date=when)
        session.add(event)
        await session.flush()
        session.add(RaceSession(event_id=event.id, name="R", type="race", start_time=when))
        await session.commit()
        await session.delete(event)
        await session.commit()
        assert (await session.scalars(select(RaceSession))).all() == []
