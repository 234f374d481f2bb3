"""Organizations and their events: the records behind the Status API."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any

from sqlalchemy import Select, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from trackside.accounts import roles
from trackside.accounts.roles import EventScope, Principal, Role
from trackside.errors import Conflict, Forbidden, Invalid, NotFound, Unauthenticated
from trackside.events.models import Event, Organization
from trackside.events.racelog import EventLive
from trackside.store import rows as store_rows

SessionFactory = Callable[[], AbstractAsyncContextManager[AsyncSession]]

# --- organizations -------------------------------------------------------------------------


async def get_organization(db: AsyncSession, organization_id: int) -> Organization:
    org = await db.get(Organization, organization_id)
    if org is None:
        raise NotFound(f"no organization {organization_id}")
    return org


def organizations_query() -> Select[tuple[Organization]]:
    return select(Organization).order_by(Organization.id)


async def list_organizations(
    db: AsyncSession, offset: int, limit: int
) -> tuple[list[Organization], int]:
    """One page of every organization, by id, and how many there are."""
    return await store_rows.page(db, organizations_query(), offset, limit)


async def organization_exists(db: AsyncSession, organization_id: int) -> bool:
    return await db.get(Organization, organization_id) is not None


async def create_organization(db: AsyncSession, values: Mapping[str, Any]) -> Organization:
    org = Organization(**values)
    db.add(org)
    await store_rows.commit(db, f"an organization named {values.get('name')!r} exists")
    return org


async def update_organization(
    db: AsyncSession, org: Organization, changes: Mapping[str, Any]
) -> Organization:
    store_rows.apply(org, changes)
    await store_rows.commit(db, f"an organization named {org.name!r} exists")
    return org


async def delete_organization(db: AsyncSession, org: Organization) -> None:
    has_events = await db.scalar(select(Event.id).where(Event.organization_id == org.id).limit(1))
    if has_events is not None:
        raise Conflict("the organization still has events; delete them first")
    await db.delete(org)
    await store_rows.commit(db, "the organization is still in use")


# --- events --------------------------------------------------------------------------------


def scope(event: Event) -> EventScope:
    return EventScope(event.id, event.organization_id, event.visibility)


async def get_event(db: AsyncSession, event_id: int) -> Event:
    event = await db.get(Event, event_id)
    if event is None:
        raise NotFound(f"no event {event_id}")
    return event


async def watchable_event(db: AsyncSession, event_id: int, principal: Principal | None) -> Event:
    """The event whose live timing ``principal`` (None: nobody signed in) may watch: the one
    rule behind ``GET /events/{id}/live``, ``/ws/events/{id}`` and the SignalR hub.

    Raises NotFound, Unauthenticated (a private event and no token) or Forbidden.
    """
    event = await get_event(db, event_id)
    check_watchable(scope(event), principal)
    return event


def check_watchable(event: EventScope, principal: Principal | None) -> None:
    """The rule itself: Unauthenticated (a private event and no token) or Forbidden."""
    if not roles.can_read_live(principal, event):
        if principal is None:
            raise Unauthenticated(f"event {event.id} is private: send a token")
        raise Forbidden(f"event {event.id} is private")


MAX_WATCH_SCOPES = 10_000  # events kept by WatchScopes before it starts afresh


class WatchScopes:
    """What the watch rule needs of each event (``EventScope``), read at most once per
    ``ttl_s``: a crowd opening the live board at a race start is one query, not one per viewer.
    Concurrent asks share one read, in a task of its own, so a viewer that goes away meanwhile
    does not cancel it for the others. A change of visibility reaches new viewers within
    ``ttl_s``."""

    def __init__(self, ttl_s: float = 2.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self._clock = clock
        self._known: dict[int, tuple[EventScope | None, float]] = {}
        self._asking: dict[int, asyncio.Task[EventScope | None]] = {}

    async def get(self, db_factory: SessionFactory, event_id: int) -> EventScope | None:
        """The event's scope; None when there is no such event."""
        known = self._known.get(event_id)
        if known is not None and self._clock() < known[1]:
            return known[0]
        asking = self._asking.get(event_id)
        if asking is None:
            asking = self._asking[event_id] = asyncio.create_task(self._read(db_factory, event_id))
            asking.add_done_callback(lambda done: self._asked(event_id, done))
        return await asyncio.shield(asking)

    async def _read(self, db_factory: SessionFactory, event_id: int) -> EventScope | None:
        async with db_factory() as db:
            event = await find_event(db, event_id)
        found = None if event is None else scope(event)
        if len(self._known) >= MAX_WATCH_SCOPES:
            self._known.clear()
        self._known[event_id] = (found, self._clock() + self.ttl_s)
        return found

    def _asked(self, event_id: int, done: asyncio.Task[EventScope | None]) -> None:
        if self._asking.get(event_id) is done:
            del self._asking[event_id]
        if not done.cancelled():
            done.exception()  # retrieved: every asker may have gone


async def find_event(db: AsyncSession, event_id: int) -> Event | None:
    return await db.get(Event, event_id)


async def event_exists(db: AsyncSession, event_id: int) -> bool:
    return await db.get(Event, event_id) is not None


async def public_events(db: AsyncSession, limit: int = 200) -> list[tuple[Event, bool]]:
    """Public events, latest first, each with whether it is live now (the events page)."""
    rows = (
        await db.execute(
            select(Event, EventLive.live)
            .outerjoin(EventLive, EventLive.event_id == Event.id)
            .where(Event.visibility == "public")
            .order_by(Event.start_date.desc(), Event.id.desc())
            .limit(limit)
        )
    ).all()
    return [(event, bool(live)) for event, live in rows]


async def list_visible_events(
    db: AsyncSession, principal: Principal, offset: int, limit: int
) -> tuple[list[Event], int]:
    """One page of the events this principal may read, and how many there are."""
    return await store_rows.page(db, visible_events_query(principal), offset, limit)


def visible_events_query(principal: Principal) -> Select[tuple[Event]]:
    """The events this principal may read, in start order."""
    query = select(Event).order_by(Event.start_date, Event.id)
    if principal.is_admin:
        return query
    organizations = [
        g.organization_id
        for g in principal.grants
        if g.role is Role.ORGANIZER and g.organization_id is not None
    ]
    events = [g.event_id for g in principal.grants if g.event_id is not None]
    global_official = any(g.role is Role.OFFICIAL and g.event_id is None for g in principal.grants)
    return query.where(
        or_(
            Event.visibility == "public",
            Event.organization_id.in_(organizations) if organizations else false(),
            Event.id.in_(events) if events else false(),
            Event.visibility.is_not(None) if global_official else false(),
        )
    )


def _check_dates(event: Event) -> None:
    if event.end_date < event.start_date:
        raise Invalid("endDate", "endDate is before startDate")


async def create_event(db: AsyncSession, values: Mapping[str, Any]) -> Event:
    await get_organization_or_invalid(db, values["organization_id"])
    event = Event(**values)
    _check_dates(event)
    db.add(event)
    await store_rows.commit(db, "the event clashes with a stored record")
    return event


async def get_organization_or_invalid(db: AsyncSession, organization_id: int) -> None:
    if await db.get(Organization, organization_id) is None:
        raise Invalid("organizationId", f"no organization {organization_id}")


async def update_event(db: AsyncSession, event: Event, changes: Mapping[str, Any]) -> Event:
    if "organization_id" in changes:
        await get_organization_or_invalid(db, changes["organization_id"])
    store_rows.apply(event, changes)
    _check_dates(event)
    await store_rows.commit(db, "the event clashes with a stored record")
    return event


async def delete_event(db: AsyncSession, event: Event) -> None:
    await db.delete(event)
    await store_rows.commit(db, "the event is still in use")
