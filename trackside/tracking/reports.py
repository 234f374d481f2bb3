"""Reading fixes: pages of them with filters, the latest per account, an event's field.

Everything here answers only what the caller may see (``service.py`` says who sees what). "The
latest" is by the fix's own time, so a late upload of an old fix never moves anyone backwards.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from trackside.accounts.roles import Principal
from trackside.errors import NotFound
from trackside.tracking import service
from trackside.tracking.models import LocationFix, TrackedParticipant
from trackside.tracking.service import Window

TRAIL_FIXES = 300  # the last fixes of each participant drawn as its trail on the map


@dataclass(frozen=True, slots=True)
class Filters:
    user_id: int | None = None
    event_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None


def in_window(window: Window) -> ColumnElement[bool]:
    """Fixes of the event's participants within the event's dates."""
    members = select(TrackedParticipant.user_id).where(
        TrackedParticipant.event_id == window.event_id
    )
    return and_(
        LocationFix.user_id.in_(members),
        LocationFix.time >= window.start,
        LocationFix.time <= window.end,
    )


async def readable(db: AsyncSession, principal: Principal) -> ColumnElement[bool]:
    """The fixes a caller may read: its own; its events' participants' if it organizes them
    (all for admins), less those of accounts that paused sharing."""
    paused = await service.paused_users(db)
    others = LocationFix.user_id.not_in(paused) if paused else true()
    if principal.is_admin:
        return or_(LocationFix.user_id == principal.id, others)
    windows = await service.organized_windows(db, principal)
    organized = or_(*(in_window(w) for w in windows)) if windows else false()
    return or_(LocationFix.user_id == principal.id, and_(organized, others))


async def _filtered(db: AsyncSession, principal: Principal, filters: Filters) -> list[Any]:
    clauses: list[Any] = [await readable(db, principal)]
    if filters.user_id is not None:
        clauses.append(LocationFix.user_id == filters.user_id)
    if filters.event_id is not None:
        windows = await service.windows_of_events(db, {filters.event_id})
        window = windows.get(filters.event_id)
        by_event = LocationFix.event_id == filters.event_id
        clauses.append(or_(by_event, in_window(window)) if window else by_event)
    if filters.since is not None:
        clauses.append(LocationFix.time >= filters.since)
    if filters.until is not None:
        clauses.append(LocationFix.time <= filters.until)
    return clauses


async def page(
    db: AsyncSession, principal: Principal, filters: Filters, offset: int, limit: int
) -> tuple[list[LocationFix], int]:
    """One page of the readable fixes, newest first (by the fix's own time)."""
    clauses = await _filtered(db, principal, filters)
    total = await db.scalar(select(func.count()).select_from(LocationFix).where(*clauses))
    rows = await db.scalars(
        select(LocationFix)
        .where(*clauses)
        .order_by(LocationFix.time.desc(), LocationFix.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return list(rows.all()), int(total or 0)


async def latest(db: AsyncSession, principal: Principal, filters: Filters) -> list[LocationFix]:
    """Each readable account's latest fix by its own time (ties: the one stored last)."""
    clauses = await _filtered(db, principal, filters)
    return await _latest_where(db, clauses)


async def _latest_where(db: AsyncSession, clauses: list[Any]) -> list[LocationFix]:
    newest = (
        select(LocationFix.user_id, func.max(LocationFix.time).label("time"))
        .where(*clauses)
        .group_by(LocationFix.user_id)
        .subquery()
    )
    rows = await db.scalars(
        select(LocationFix)
        .join(
            newest,
            and_(LocationFix.user_id == newest.c.user_id, LocationFix.time == newest.c.time),
        )
        .where(*clauses)
        .order_by(LocationFix.user_id, LocationFix.id)
    )
    by_user: dict[int, LocationFix] = {}
    for row in rows.all():
        by_user[row.user_id] = row  # the last stored of equal times wins
    return list(by_user.values())


async def event_latest(db: AsyncSession, window: Window, paused: set[int]) -> list[LocationFix]:
    """The latest fix of each of the event's participants who share their position."""
    clauses: list[Any] = [in_window(window)]
    if paused:
        clauses.append(LocationFix.user_id.not_in(paused))
    return await _latest_where(db, clauses)


async def trail(db: AsyncSession, window: Window, user_id: int) -> list[LocationFix]:
    """The participant's last fixes within the event, oldest first."""
    rows = await db.scalars(
        select(LocationFix)
        .where(LocationFix.user_id == user_id)
        .where(LocationFix.time >= window.start, LocationFix.time <= window.end)
        .order_by(LocationFix.time.desc(), LocationFix.id.desc())
        .limit(TRAIL_FIXES)
    )
    return list(reversed(rows.all()))


async def friends(db: AsyncSession, user_id: int) -> list[LocationFix]:
    """For OwnTracks: the latest fix of everyone tracked in an event with this account, each
    within that event's dates, less those who paused sharing."""
    events = select(TrackedParticipant.event_id).where(TrackedParticipant.user_id == user_id)
    event_ids = set((await db.scalars(events)).all())
    windows = await service.windows_of_events(db, event_ids)
    if not windows:
        return []
    paused = await service.paused_users(db)
    clauses: list[Any] = [
        or_(*(in_window(w) for w in windows.values())),
        LocationFix.user_id != user_id,
    ]
    if paused:
        clauses.append(LocationFix.user_id.not_in(paused))
    return await _latest_where(db, clauses)


def attributes(row: LocationFix) -> dict[str, Any]:
    return json.loads(row.attributes) if row.attributes else {}


async def get(db: AsyncSession, fix_id: int) -> LocationFix:
    row = await db.get(LocationFix, fix_id)
    if row is None:
        raise NotFound(f"no location report {fix_id}")
    return row
