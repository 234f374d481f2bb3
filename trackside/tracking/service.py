"""Trackers, tracked participants, sharing and an event's tracking settings: the SQL of them.

Who may see positions: an account its own; an event's organizers (and admins) its
participants' within the event's dates; the event's participants each other's; everyone when
the event's map is public. A participant who paused sharing is seen by nobody else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from trackside.accounts import opaque
from trackside.accounts import people as accounts
from trackside.accounts.roles import Principal, can_manage_event
from trackside.errors import Conflict, Invalid, NotFound
from trackside.events import service as events
from trackside.store.base import utcnow
from trackside.tracking.models import (
    TrackedParticipant,
    TrackingDevice,
    TrackingProfile,
    TrackingSettings,
)

# --- devices -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewDevice:
    device: TrackingDevice
    token: str  # shown once


async def create_device(db: AsyncSession, user_id: int, device_id: str | None) -> NewDevice:
    token = opaque.new_token()
    device = TrackingDevice(user_id=user_id, device_id=device_id, token_hash=opaque.digest(token))
    db.add(device)
    try:
        await db.commit()
    except IntegrityError:
        await db.rollback()
        raise Conflict("a device with this id is registered already", "deviceId") from None
    return NewDevice(device, token)


async def device_by_token(db: AsyncSession, token: str) -> TrackingDevice | None:
    return await db.scalar(
        select(TrackingDevice).where(TrackingDevice.token_hash == opaque.digest(token))
    )


async def device_by_id_or_token(db: AsyncSession, device_id: str) -> TrackingDevice | None:
    """The OsmAnd ``id``: a device's own id, or its token when it was made without one."""
    found = await db.scalar(select(TrackingDevice).where(TrackingDevice.device_id == device_id))
    return found or await device_by_token(db, device_id)


def device_key(device: TrackingDevice) -> str:
    return f"device:{device.id}"


# --- participants --------------------------------------------------------------------------------


async def add_participant(db: AsyncSession, event_id: int, username: str) -> TrackedParticipant:
    try:
        user = await accounts.by_username(db, username)
    except NotFound:
        raise Invalid("username", f"no account named {username!r}") from None
    row = TrackedParticipant(event_id=event_id, user_id=user.id)
    db.add(row)
    try:
        await db.commit()
    except IntegrityError:
        await db.rollback()
        raise Conflict(f"{username!r} is tracked in this event already") from None
    return row


async def participants(db: AsyncSession, event_id: int) -> list[TrackedParticipant]:
    rows = await db.scalars(
        select(TrackedParticipant)
        .where(TrackedParticipant.event_id == event_id)
        .order_by(TrackedParticipant.id)
    )
    return list(rows.all())


async def is_participant(db: AsyncSession, event_id: int, user_id: int) -> bool:
    found = await db.scalar(
        select(TrackedParticipant.id).where(
            TrackedParticipant.event_id == event_id, TrackedParticipant.user_id == user_id
        )
    )
    return found is not None


@dataclass(frozen=True, slots=True)
class Window:
    """An event whose map a participant shows on, and the dates that count."""

    event_id: int
    start: datetime
    end: datetime


async def windows_of_events(db: AsyncSession, event_ids: set[int]) -> dict[int, Window]:
    found = {}
    for event_id in sorted(event_ids):
        event = await events.find_event(db, event_id)
        if event is not None:
            found[event_id] = Window(event_id, event.start_date, event.end_date)
    return found


async def participations(db: AsyncSession) -> dict[int, list[tuple[Window, bool]]]:
    """Every tracked account → the events it is tracked in (window, and sharing paused)."""
    rows = (await db.execute(select(TrackedParticipant.user_id, TrackedParticipant.event_id))).all()
    windows = await windows_of_events(db, {event_id for _, event_id in rows})
    paused = await paused_users(db, {user_id for user_id, _ in rows})
    found: dict[int, list[tuple[Window, bool]]] = {}
    for user_id, event_id in rows:
        if event_id in windows:
            found.setdefault(user_id, []).append((windows[event_id], user_id in paused))
    return found


# --- sharing -------------------------------------------------------------------------------------


async def set_sharing(db: AsyncSession, user_id: int, paused: bool) -> TrackingProfile:
    profile = await db.get(TrackingProfile, user_id)
    if profile is None:
        profile = TrackingProfile(user_id=user_id)
        db.add(profile)
    profile.sharing_paused = paused
    profile.updated_at = utcnow()
    await db.commit()
    return profile


async def sharing_paused(db: AsyncSession, user_id: int) -> bool:
    profile = await db.get(TrackingProfile, user_id)
    return bool(profile and profile.sharing_paused)


async def paused_users(db: AsyncSession, user_ids: set[int] | None = None) -> set[int]:
    query = select(TrackingProfile.user_id).where(TrackingProfile.sharing_paused.is_(True))
    if user_ids is not None:
        query = query.where(TrackingProfile.user_id.in_(user_ids))
    return set((await db.scalars(query)).all())


# --- an event's settings, and who sees its map ---------------------------------------------------


async def settings_of(db: AsyncSession, event_id: int) -> TrackingSettings:
    """The stored settings, or the defaults (private map, fixes kept 30 days after the end)."""
    row = await db.get(TrackingSettings, event_id)
    return row or TrackingSettings(event_id=event_id, map_public=False, retention_days=30)


async def put_settings(
    db: AsyncSession, event_id: int, map_public: bool, retention_days: int
) -> TrackingSettings:
    row = await db.get(TrackingSettings, event_id)
    if row is None:
        row = TrackingSettings(event_id=event_id)
        db.add(row)
    row.map_public = map_public
    row.retention_days = retention_days
    row.updated_at = utcnow()
    await db.commit()
    return row


async def all_settings(db: AsyncSession) -> dict[int, TrackingSettings]:
    return {row.event_id: row for row in (await db.scalars(select(TrackingSettings))).all()}


async def can_see_map(db: AsyncSession, principal: Principal | None, event_id: int) -> bool:
    """Organizers and admins, the event's participants, and everyone when the map is public."""
    if (await settings_of(db, event_id)).map_public:
        return True
    if principal is None:
        return False
    event = await events.get_event(db, event_id)
    if can_manage_event(principal, events.scope(event)):
        return True
    return principal.is_user and await is_participant(db, event_id, principal.id)


async def organized_windows(db: AsyncSession, principal: Principal) -> list[Window]:
    """The events whose participants' fixes this principal reads as an organizer."""
    found = []
    offset = 0
    while True:
        page, total = await events.list_visible_events(db, principal, offset, 500)
        for event in page:
            if can_manage_event(principal, events.scope(event)):
                found.append(Window(event.id, event.start_date, event.end_date))
        offset += len(page)
        if not page or offset >= total:
            return found
