"""What an event holds: its sessions, classes and entries."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from trackside.errors import Invalid, NotFound
from trackside.events.models import Entry, Event, EventClass, RaceSession
from trackside.store import rows as store_rows

Child = TypeVar("Child", RaceSession, EventClass, Entry)

KINDS: dict[type, str] = {RaceSession: "session", EventClass: "class", Entry: "entry"}
CLASHES: dict[type, str] = {
    RaceSession: "the session clashes with a stored record",
    EventClass: "the event already has a class with this name",
    Entry: "the event already has an entry with this number",
}


def query(kind: type[Child], event: Event) -> Select[tuple[Child]]:
    order = kind.start_time if kind is RaceSession else kind.id  # type: ignore[union-attr]
    return select(kind).where(kind.event_id == event.id).order_by(order, kind.id)


async def page(
    db: AsyncSession, kind: type[Child], event: Event, offset: int, limit: int
) -> tuple[list[Child], int]:
    """One page of the event's sessions, classes or entries, and how many there are."""
    return await store_rows.page(db, query(kind, event), offset, limit)


async def entered_numbers(db: AsyncSession, event_id: int) -> list[str]:
    """The car numbers entered in the event."""
    return list((await db.scalars(select(Entry.number).where(Entry.event_id == event_id))).all())


async def get(db: AsyncSession, kind: type[Child], event: Event, child_id: int) -> Child:
    row = await db.get(kind, child_id)
    if row is None or row.event_id != event.id:
        raise NotFound(f"no {KINDS[kind]} {child_id} in event {event.id}")
    return row


async def _check(db: AsyncSession, row: Any) -> None:
    """Rules the database cannot state. No autoflush: the pending change may clash, and the
    clash must surface at commit (a 409 naming the field), not inside this lookup."""
    with db.no_autoflush:
        await _check_rules(db, row)


async def _check_rules(db: AsyncSession, row: Any) -> None:
    if isinstance(row, RaceSession) and row.end_time is not None and row.end_time < row.start_time:
        raise Invalid("endTime", "endTime is before startTime")
    if isinstance(row, Entry) and row.class_id is not None:
        race_class = await db.get(EventClass, row.class_id)
        if race_class is None or race_class.event_id != row.event_id:
            raise Invalid("classId", f"no class {row.class_id} in event {row.event_id}")


async def create(
    db: AsyncSession, kind: type[Child], event: Event, values: Mapping[str, Any]
) -> Child:
    row = kind(event_id=event.id, **values)
    await _check(db, row)
    db.add(row)
    await store_rows.commit(db, CLASHES[kind])
    return row


async def update(db: AsyncSession, row: Child, changes: Mapping[str, Any]) -> Child:
    store_rows.apply(row, changes)
    await _check(db, row)
    await store_rows.commit(db, CLASHES[type(row)])
    return row


async def delete(db: AsyncSession, row: Child) -> None:
    await db.delete(row)
    await store_rows.commit(db, f"the {KINDS[type(row)]} is still in use")


async def add_session(
    db: AsyncSession, event_id: int, *, name: str, type: str, start_time: Any
) -> int:
    """A session row for a package that runs one itself (a manual-timing competition); its id.
    Flushed, not committed: it joins the caller's transaction."""
    row = RaceSession(event_id=event_id, name=name, type=type, start_time=start_time)
    db.add(row)
    await db.flush()
    return row.id
