"""``trackside db``: the database schema."""

from __future__ import annotations

import typer

from trackside.commands.common import console, run

app = typer.Typer(help="Database schema.", no_args_is_help=True)


@app.command()
def upgrade() -> None:
    """Apply every migration not yet applied (``serve`` does this at start too)."""
    from trackside.store.migrate import current_revision

    async def work(platform, _session) -> str | None:  # type: ignore[no-untyped-def]
        return await current_revision(platform.engine)

    revision = run(work)
    console.print(f"database schema at revision {revision}")
