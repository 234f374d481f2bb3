"""``trackside results``: a session's results sheet from the local database, as an official
prints it for the notice board: PDF, CSV or JSON, corrections and status included.

It reads the same database the server uses (``TRACKSIDE_DATA_DIR`` / ``TRACKSIDE_DATABASE_URL``)
and replays the event's log, so it works with the server running or stopped.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import orjson
import typer
from rich.table import Table

from trackside.commands.common import console, run

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from trackside.platform import Platform

Output = Annotated[Path | None, typer.Option(dir_okay=False, writable=True)]


def results(
    event: Annotated[int, typer.Option(help="The event's id.", min=1)],
    session: Annotated[
        int | None, typer.Option(help="The session's id; without it, list the sessions.", min=1)
    ] = None,
    pdf: Output = None,
    csv: Output = None,
    json: Output = None,
) -> None:
    """Write a session's results (``--pdf``, ``--csv``, ``--json``), or list the event's
    sessions and their classification status."""
    from trackside.events import classification, live_reads, results_pdf
    from trackside.events import service as events
    from trackside.events.models import RaceSession

    async def sessions(platform: Platform, db: AsyncSession) -> list[dict[str, Any]]:
        row = await events.get_event(db, event)
        processor = await platform.processors.get(row.id)
        out = []
        for index in range(len(processor.engine.sessions)):
            session_id = processor.session_id_of(index)
            stored = await db.get(RaceSession, session_id) if session_id else None
            if stored is not None:
                state = classification.standing(processor, index)
                out.append({"id": stored.id, "name": stored.name, "type": stored.type, **state})
        return out

    async def one(platform: Platform, db: AsyncSession) -> tuple[str, dict[str, Any]]:
        row = await events.get_event(db, event)
        return row.name, await live_reads.session_results(db, platform.processors, row, session)

    if session is None:
        table = Table("id", "session", "type", "status", "revision", "cars")
        for item in run(sessions):
            table.add_row(str(item["id"]), item["name"], item["type"], item["status"],
                          str(item["revision"]), str(len(item["cars"])))  # fmt: skip
        console.print(table)
        return
    name, result = run(one)
    written = []
    if pdf is not None:
        pdf.write_bytes(results_pdf.results_pdf(result, name))
        written.append(str(pdf))
    if csv is not None:
        csv.write_text(live_reads.results_csv(result), encoding="utf-8")
        written.append(str(csv))
    if json is not None:
        json.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))
        written.append(str(json))
    status = results_pdf.status_line(result["classification"])
    title = result.get("name") or f"session {session}"
    where = ", ".join(written) or "nothing written: give --pdf, --csv or --json"
    console.print(f"{title}: {status}, {len(result['cars'])} cars → {where}")
