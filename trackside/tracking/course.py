"""An event's course: its checkpoints in order (a line between two points, or a circle)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from trackside.errors import Invalid
from trackside.timing.checkpoints import CheckpointShape, Circle, Line
from trackside.tracking.models import Checkpoint


@dataclass(frozen=True, slots=True)
class CheckpointSpec:
    name: str
    kind: str
    points: Sequence[tuple[float, float]] | None
    center: tuple[float, float] | None
    radius_m: float | None


def _row(event_id: int, position: int, spec: CheckpointSpec) -> Checkpoint:
    field = f"checkpoints.{position}"
    if spec.kind == "line":
        if spec.points is None or len(spec.points) != 2:
            raise Invalid(f"{field}.points", "a line checkpoint needs two points")
        if spec.points[0] == spec.points[1]:
            raise Invalid(f"{field}.points", "a line's two ends must differ")
        (lat1, lon1), (lat2, lon2) = spec.points
        return Checkpoint(
            event_id=event_id,
            position=position,
            name=spec.name,
            kind="line",
            lat1=lat1,
            lon1=lon1,
            lat2=lat2,
            lon2=lon2,
            radius_m=None,
        )
    if spec.center is None or spec.radius_m is None:
        raise Invalid(f"{field}.center", "a circle checkpoint needs a center and radiusM")
    lat, lon = spec.center
    return Checkpoint(
        event_id=event_id,
        position=position,
        name=spec.name,
        kind="circle",
        lat1=lat,
        lon1=lon,
        lat2=None,
        lon2=None,
        radius_m=spec.radius_m,
    )


async def put(db: AsyncSession, event_id: int, specs: Sequence[CheckpointSpec]) -> list[Checkpoint]:
    """Replace the event's checkpoints (in course order: the first is the start)."""
    names = [spec.name for spec in specs]
    if len(set(names)) != len(names):
        raise Invalid("checkpoints", "two checkpoints share a name")
    rows = [_row(event_id, position, spec) for position, spec in enumerate(specs)]
    await db.execute(delete(Checkpoint).where(Checkpoint.event_id == event_id))
    db.add_all(rows)
    await db.commit()
    return rows


async def of_event(db: AsyncSession, event_id: int) -> list[Checkpoint]:
    rows = await db.scalars(
        select(Checkpoint).where(Checkpoint.event_id == event_id).order_by(Checkpoint.position)
    )
    return list(rows.all())


async def by_event(db: AsyncSession) -> dict[int, list[Checkpoint]]:
    found: dict[int, list[Checkpoint]] = {}
    for row in (await db.scalars(select(Checkpoint).order_by(Checkpoint.position))).all():
        found.setdefault(row.event_id, []).append(row)
    return found


def shape(row: Checkpoint) -> CheckpointShape:
    if row.kind == "line":
        assert row.lat2 is not None and row.lon2 is not None
        return Line(row.name, (row.lat1, row.lon1), (row.lat2, row.lon2))
    assert row.radius_m is not None
    return Circle(row.name, (row.lat1, row.lon1), row.radius_m)
