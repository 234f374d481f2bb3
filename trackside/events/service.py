"""Organizations and their events: the records behind the Status API."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from trackside.accounts.roles import EventScope, Principal, Role
from trackside.errors import Conflict, Invalid, NotFound
from trackside.events.models import Event, Organization
from trackside.store import rows as records

# --- organizations -------------------------------------------------------------------------


async def get_organization(session: AsyncSession, organization_id: int) -> Organization:
    org = await session.get(Organization, organization_id)
    if org is None:
        raise NotFound(f"no organization {organization_id}")
    return org


def organizations_query() -> Select[tuple[Organization]]:
    return select(Organization).order_by(Organization.id)


async def create_organization(session: AsyncSession, values: Mapping[str, Any]) -> Organization:
    org = Organization(**values)
    session.add(org)
    await records.commit(session, f"an organization named {values.get('name')!r} exists")
    return org


async def update_organization(
    session: AsyncSession, org: Organization, changes: Mapping[str, Any]
) -> Organization:
    records.apply(org, changes)
    await records.commit(session, f"an organization named {org.name!r} exists")
    return org


async def delete_organization(session: AsyncSession, org: Organization) -> None:
    has_events = await session.scalar(
        select(Event.id).where(Event.organization_id == org.id).limit(1)
    )
    if has_events is not None:
        raise Conflict("the organization still has events; delete them first")
    await session.delete(org)
    await records.commit(session, "the organization is still in use")


# --- events --------------------------------------------------------------------------------


def scope(event: Event) -> EventScope:
    return EventScope(event.id, event.organization_id, event.visibility)


async def get_event(session: AsyncSession, event_id: int) -> Event:
    event = await session.get(Event, event_id)
    if event is None:
        raise NotFound(f"no event {event_id}")
    return event


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


async def create_event(session: AsyncSession, values: Mapping[str, Any]) -> Event:
    await get_organization_or_invalid(session, values["organization_id"])
    event = Event(**values)
    _check_dates(event)
    session.add(event)
    await records.commit(session, "the event clashes with a stored record")
    return event


async def get_organization_or_invalid(session: AsyncSession, organization_id: int) -> None:
    if await session.get(Organization, organization_id) is None:
        raise Invalid("organizationId", f"no organization {organization_id}")


async def update_event(session: AsyncSession, event: Event, changes: Mapping[str, Any]) -> Event:
    if "organization_id" in changes:
        await get_organization_or_invalid(session, changes["organization_id"])
    records.apply(event, changes)
    _check_dates(event)
    await records.commit(session, "the event clashes with a stored record")
    return event


async def delete_event(session: AsyncSession, event: Event) -> None:
    await session.delete(event)
    await records.commit(session, "the event is still in use")
