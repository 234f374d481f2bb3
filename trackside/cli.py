"""The ``trackside`` command: replay, serve, relay, demo, db, users, clients."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from trackside import replay as replay_service
from trackside.commands import clients, db, demo, serve, tracking, users
from trackside.feeds.clock import format_duration, format_interval
from trackside.relay.command import relay as relay_command
from trackside.timing.results import engine_result

# No local variables in tracebacks: the relay's client secret is one.
app = typer.Typer(
    help="Race timing, scoring and live race data.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
console = Console()
app.command()(serve.serve)
app.command()(demo.demo)
app.add_typer(db.app, name="db")
app.add_typer(users.app, name="users")
app.add_typer(clients.app, name="clients")
app.add_typer(tracking.app, name="tracking")


@app.callback()
def root() -> None:
    """trackside: scores races live from the timing feed and shows them on every screen."""


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


@app.command()
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
    quiet: Annotated[bool, typer.Option(help="Print no tables.")] = False,
) -> None:
    """Replay RMonitor captures through the scoring engine and print the classification.

    Several files are one feed, in the order given (e.g. entries, grid, race start).
    """
    pace = None if speed == "max" else float(speed)
    loaded = replay_service.load(files)
    total = sum(len(f.records) for f in loaded)
    with Progress(
        TextColumn("[bold]replay"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=quiet,
        disable=quiet,
    ) as progress:
        task = progress.add_task("records", total=total)
        engine = replay_service.replay(
            loaded, pace, on_progress=lambda n: progress.advance(task, n)
        )
    result = engine_result(engine)
    if not quiet:
        for session in result["sessions"]:
            _print_session(session)
        console.print(
            f"{result['records']} records, {result['errors']} errors, "
            f"{len(result['sessions'])} sessions"
        )
    if output is not None:
        output.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))
        if not quiet:
            console.print(f"results written to {output}")


def _print_session(session: dict) -> None:
    title = f"Run {session['run']} — {session['name']} ({session['type']}) · flag {session['flag']}"
    table = Table(title=title, title_justify="left")
    for column in ("Pos", "No", "Class", "PIC", "Name", "Laps", "Total", "Last", "Best"):
        text = column in ("Name", "Class")
        table.add_column(
            column,
            justify="left" if text else "right",
            no_wrap=True,
            overflow="ellipsis",
            max_width=24 if column == "Name" else None,
            min_width=None if text else len(column),
        )
    for column in ("Gap", "Diff", "+/-"):
        table.add_column(column, justify="right", no_wrap=True, min_width=len(column))
    for car in session["cars"]:
        gained = car["positions_gained"]
        table.add_row(
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
        )
    console.print(table)


app.command("relay")(relay_command)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
