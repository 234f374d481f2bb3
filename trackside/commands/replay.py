"""``trackside replay``: captures and logs through the scorer, the classification a person reads.

A day's feed holds dozens of sessions; a person reads the last one (``--all`` for every one),
and a pipe or a file gets plain text, not a drawn table: rendering every session as a Rich
table used to cost more than the replay itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from trackside import replay as replay_service
from trackside.commands.runtime import tune_gc
from trackside.feeds.clock import format_duration, format_interval
from trackside.timing.results import engine_result

console = Console()

COLUMNS = ("Pos", "No", "Class", "PIC", "Name", "Laps", "Total", "Last", "Best", "Gap", "Diff")
TEXT_COLUMNS = ("Class", "Name")
NAME_WIDTH = 24


def _speed(value: str) -> str:
    """Validate ``--speed`` where the user typed it, so the error names the option."""
    if value == "max":
        return value
    try:
        speed = float(value)
    except ValueError:
        raise typer.BadParameter("use 'max' or a positive number, e.g. 1 or 10") from None
    if not speed > 0 or speed == float("inf"):
        raise typer.BadParameter("speed must be a positive number")
    return value


def replay(
    files: Annotated[
        list[Path],
        typer.Argument(exists=True, dir_okay=False, readable=True, metavar="FILE"),
    ],
    speed: Annotated[
        str,
        typer.Option(
            help="'max', or a multiple of real time (1 = as it happened).", callback=_speed
        ),
    ] = "max",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the results as JSON here.")
    ] = None,
    all_sessions: Annotated[
        bool, typer.Option("--all", help="Print every session, not only the last.")
    ] = False,
    quiet: Annotated[bool, typer.Option(help="Print no tables.")] = False,
    loops: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            readable=True,
            help="The event's loops, as GET /events/{id}/loops gives them (JSON).",
        ),
    ] = None,
    control_logs: Annotated[
        list[Path] | None,
        typer.Option(
            "--control-log",
            exists=True,
            dir_okay=False,
            readable=True,
            metavar="FILE",
            help="A race-control log CSV, read after the files as an upload (repeatable).",
        ),
    ] = None,
) -> None:
    """Replay captures through the scorer the server runs and print the classification.

    FILE is an RMonitor capture or raw stream, a raw P3 decoder capture (one hex frame a line)
    or an event's log export (GET /events/{id}/log?format=jsonl), recognised by content.
    Several files are one feed, in the order given (e.g. entries, grid, race start).
    """
    pace = None if speed == "max" else float(speed)
    layout = None
    if loops is not None:
        try:
            layout = replay_service.read_loops(loops)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--loops") from None
    loaded = replay_service.load(files)
    # Hundreds of thousands of short-lived records: the default collector walks the growing
    # engine state over and over (about a tenth of a replay).
    tune_gc()
    with Progress(
        TextColumn("[bold]replay"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=quiet,
        disable=quiet or not console.is_terminal,
    ) as progress:
        task = progress.add_task("bytes", total=sum(f.size for f in loaded))
        run = replay_service.replay(
            loaded,
            pace,
            on_progress=lambda n: progress.advance(task, n),
            loops=layout,
            control_logs=control_logs or (),
        )
    result = engine_result(run.scorer)
    if not quiet:
        sessions = result["sessions"] if all_sessions else result["sessions"][-1:]
        for session in sessions:
            _print_session(session)
        console.print(_summary(result, run), highlight=False)
    if output is not None:
        output.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))
        if not quiet:
            console.print(f"results written to {output}", highlight=False)


def _summary(result: dict[str, Any], run: replay_service.Replay) -> str:
    text = f"{result['records']} records, {result['errors']} errors"
    scorer = run.scorer
    if scorer.loop_counts.crossings:
        text += f", {scorer.loop_counts.crossings} passings"
    if scorer.control_records:
        text += f", {scorer.control_records} control-log revisions"
    if run.bad:
        text += f", {run.bad} records not read"
    return text + f", {len(result['sessions'])} sessions"


def _title(session: dict[str, Any]) -> str:
    return f"Run {session['run']} — {session['name']} ({session['type']}) · flag {session['flag']}"


def _cells(car: dict[str, Any]) -> list[str]:
    gained = car["positions_gained"]
    return [
        str(car["position"]),
        car["number"],
        car["class"],
        str(car["class_position"]),
        car["name"][:28] + (" (stale)" if car["stale"] else ""),
        str(car["laps"]),
        format_duration(car["total_time_ms"]),
        format_duration(car["last_lap_ms"]),
        format_duration(car["best_lap_ms"]),
        format_interval(car["gap_ms"], car["gap_laps"]),
        format_interval(car["difference_ms"], car["difference_laps"]),
        "" if gained is None else f"{gained:+d}",
    ]


def _print_session(session: dict[str, Any]) -> None:
    rows = [_cells(car) for car in session["cars"]]
    if console.is_terminal:
        console.print(_table(session, rows))
    else:
        console.file.write(plain_table(_title(session), [*COLUMNS, "+/-"], rows))


def plain_table(title: str, header: list[str], rows: list[list[str]]) -> str:
    """Columns padded with spaces: what a pipe, a file or a log wants."""
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]
    lines = [title]
    for row in (header, *rows):
        cells = (
            cell.ljust(width) if name in TEXT_COLUMNS else cell.rjust(width)
            for name, cell, width in zip(header, row, widths, strict=True)
        )
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines) + "\n\n"


def _table(session: dict[str, Any], rows: list[list[str]]) -> Table:
    table = Table(title=_title(session), title_justify="left")
    for column in COLUMNS[:9]:
        text = column in TEXT_COLUMNS
        table.add_column(
            column,
            justify="left" if text else "right",
            no_wrap=True,
            overflow="ellipsis",
            max_width=NAME_WIDTH if column == "Name" else None,
            min_width=None if text else len(column),
        )
    for column in (*COLUMNS[9:], "+/-"):
        table.add_column(column, justify="right", no_wrap=True, min_width=len(column))
    for row in rows:
        table.add_row(*row)
    return table
