"""What an event's map starts from: each sharing participant's latest position and trail, the
checkpoints and the course line through them, and how the page should draw it."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from trackside.accounts import people as accounts
from trackside.config import Settings
from trackside.errors import NotFound
from trackside.tracking import course, reports, service
from trackside.tracking.schemas import CheckpointOut, card


async def snapshot(db: AsyncSession, settings: Settings, event_id: int) -> dict[str, Any]:
    windows = await service.windows_of_events(db, {event_id})
    window = windows.get(event_id)
    if window is None:
        raise NotFound(f"no event {event_id}")
    paused = await service.paused_users(db)
    members = [p.user_id for p in await service.participants(db, event_id)]
    names = await accounts.usernames(db, members)
    latest = {row.user_id: row for row in await reports.event_latest(db, window, paused)}
    participants = []
    for user_id in members:
        if user_id in paused:
            continue
        name = names.get(user_id, str(user_id))
        row = latest.get(user_id)
        trail = await reports.trail(db, window, user_id) if row is not None else []
        participants.append(
            {
                "userId": user_id,
                "name": name,
                "last": card(row, name) if row is not None else None,
                "trail": [[fix.latitude, fix.longitude] for fix in trail],
            }
        )
    checkpoints = await course.of_event(db, event_id)
    return {
        "type": "snapshot",
        "eventId": event_id,
        "staleAfterS": settings.tracking_stale_s,
        "participants": participants,
        "checkpoints": [CheckpointOut.of(row).model_dump() for row in checkpoints],
        "course": [
            [row.lat1, row.lon1] if row.kind == "circle" else _middle(row) for row in checkpoints
        ],
    }


def _middle(row: Any) -> list[float]:
    return [(row.lat1 + row.lat2) / 2, (row.lon1 + row.lon2) / 2]
