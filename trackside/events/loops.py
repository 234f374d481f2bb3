"""An event's track-side configuration: its loops and the entries its transponders belong to.

Scoring depends on it (``timing.scorer``), so a processor loads it when it starts and is
re-scored from the log whenever it changes: a loop configured after the race still gives the
passings already logged their meaning.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from trackside.errors import Invalid
from trackside.events.models import Entry, EventClass, EventLoop
from trackside.timing.loops import Loop, LoopKind, LoopLayout
from trackside.timing.passing_laps import EntryInfo


@dataclass(frozen=True, slots=True)
class TrackConfig:
    layout: LoopLayout = field(default_factory=lambda: LoopLayout(()))
    entries: tuple[EntryInfo, ...] = ()


@dataclass(frozen=True, slots=True)
class LoopSpec:
    """A loop as a request gives it (validated here, not by the wire model alone)."""

    name: str
    kind: str
    decoder_id: int
    loop_id: int | None = None


async def event_loops(db: AsyncSession, event_id: int) -> list[EventLoop]:
    query = select(EventLoop).where(EventLoop.event_id == event_id)
    return list((await db.scalars(query.order_by(EventLoop.position))).all())


def layout_of(specs: Sequence[LoopSpec]) -> LoopLayout:
    """The layout the loops make; ``Invalid`` naming the loop and field when they clash."""
    names: dict[str, int] = {}
    keys: dict[tuple[int, int | None], int] = {}
    loops = []
    for index, spec in enumerate(specs):
        if spec.name.casefold() in names:
            first = names[spec.name.casefold()]
            raise Invalid(f"loops.{index}.name", f"loop {first} is already named {spec.name!r}")
        key = (spec.decoder_id, spec.loop_id)
        if key in keys:
            raise Invalid(
                f"loops.{index}.decoderId",
                f"loop {keys[key]} already reads decoder {spec.decoder_id}"
                + (f" loop {spec.loop_id}" if spec.loop_id is not None else ""),
            )
        names[spec.name.casefold()] = index
        keys[key] = index
        loops.append(Loop(spec.name, LoopKind(spec.kind), spec.decoder_id, spec.loop_id))
    return LoopLayout(loops)


async def replace_loops(db: AsyncSession, event_id: int, specs: Sequence[LoopSpec]) -> None:
    """The event's loops become ``specs``, all or nothing."""
    layout_of(specs)
    for row in await event_loops(db, event_id):
        await db.delete(row)
    await db.flush()
    db.add_all(
        EventLoop(
            event_id=event_id,
            position=position,
            name=spec.name,
            kind=spec.kind,
            decoder_id=spec.decoder_id,
            loop_id=spec.loop_id,
        )
        for position, spec in enumerate(specs)
    )
    await db.commit()


async def load(db: AsyncSession, event_id: int) -> TrackConfig:
    rows = await event_loops(db, event_id)
    layout = LoopLayout(
        Loop(row.name, LoopKind(row.kind), row.decoder_id, row.loop_id) for row in rows
    )
    query = select(EventClass.id, EventClass.name).where(EventClass.event_id == event_id)
    classes = {class_id: name for class_id, name in (await db.execute(query)).all()}
    entries = (
        await db.scalars(select(Entry).where(Entry.event_id == event_id).order_by(Entry.id))
    ).all()
    return TrackConfig(
        layout=layout,
        entries=tuple(
            EntryInfo(
                number=entry.number,
                transponder=entry.transponder,
                driver=entry.driver_name,
                team=entry.team_name,
                class_name=classes.get(entry.class_id, "") if entry.class_id else "",
            )
            for entry in entries
        ),
    )
