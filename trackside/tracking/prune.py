"""Deleting old fixes: those of an event once its retention (days after its end) has passed,
and those in no event after ``tracking_retention_days``. A fix that still counts for an event
within its retention stays."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, false, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from trackside.tracking import service
from trackside.tracking.models import LocationFix, TrackedParticipant
from trackside.tracking.reports import in_window

DEFAULT_EVENT_RETENTION_DAYS = 30


async def prune(db: AsyncSession, *, now: datetime, retention_days: int) -> int:
    """Delete what is past its retention; returns how many fixes went."""
    settings = await service.all_settings(db)
    tracked = set((await db.scalars(select(TrackedParticipant.event_id).distinct())).all())
    windows = await service.windows_of_events(db, tracked)
    kept, expired = [], []
    for event_id, window in windows.items():
        row = settings.get(event_id)
        days = row.retention_days if row is not None else DEFAULT_EVENT_RETENTION_DAYS
        (kept if window.end + timedelta(days=days) > now else expired).append(window)
    in_kept = or_(*(in_window(w) for w in kept)) if kept else false()
    in_expired = or_(*(in_window(w) for w in expired)) if expired else false()
    cutoff = now - timedelta(days=retention_days)
    result = await db.execute(
        delete(LocationFix)
        .where(not_(in_kept), or_(in_expired, LocationFix.time < cutoff))
        .execution_options(synchronize_session=False)
    )
    await db.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
