"""``/events/{eventId}/loops``: an event's timing loops, read by its readers, set by the people
who run it. Setting them re-scores the event's log, so passings already stored take the new
meaning."""

from __future__ import annotations

from fastapi import APIRouter

from trackside.api.deps import DbDep, PlatformDep, ReadableEvent, RunEvent, Writer
from trackside.events import loops as track_config
from trackside.events.loops import LoopSpec
from trackside.events.schemas import LoopOut, LoopsIn, LoopsOut

router = APIRouter(prefix="/events/{eventId}", tags=["loops"])


async def _loops(db: DbDep, event_id: int) -> LoopsOut:
    rows = await track_config.event_loops(db, event_id)
    return LoopsOut(event_id=event_id, loops=[LoopOut.model_validate(row) for row in rows])


@router.get("/loops", response_model=LoopsOut)
async def get_loops(event: ReadableEvent, db: DbDep) -> LoopsOut:
    """The event's loops in the order they were given."""
    return await _loops(db, event.id)


@router.put("/loops", response_model=LoopsOut)
async def put_loops(
    body: LoopsIn, event: RunEvent, _: Writer, db: DbDep, platform: PlatformDep
) -> LoopsOut:
    """Replace the event's loops (all of them: leave one out to remove it)."""
    specs = [
        LoopSpec(loop.name, loop.kind.value, loop.decoder_id, loop.loop_id) for loop in body.loops
    ]
    await track_config.replace_loops(db, event.id, specs)
    await platform.processors.reconfigure(event.id)
    return await _loops(db, event.id)
