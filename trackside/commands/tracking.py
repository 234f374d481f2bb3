"""``trackside tracking``: location tracking housekeeping."""

from __future__ import annotations

import typer

from trackside.commands.common import console, run

app = typer.Typer(help="Location tracking.", no_args_is_help=True)


@app.command()
def prune() -> None:
    """Delete fixes past their retention: an event's (its tracking settings' days after its
    end, 30 by default) and those in no event (TRACKSIDE_TRACKING_RETENTION_DAYS)."""
    from trackside.store.base import utcnow
    from trackside.tracking.prune import prune as prune_fixes

    async def work(platform, db) -> int:  # type: ignore[no-untyped-def]
        days = platform.settings.tracking_retention_days
        return await prune_fixes(db, now=utcnow(), retention_days=days)

    deleted = run(work)
    console.print(f"deleted {deleted} fixes past their retention")
