"""``trackside replay``: captures and logs through the scorer, the classification a person reads.

The command's one definition (options, help, errors); the work is ``commands.replay_run``,
which ``cli.main`` also runs directly for a plain command line (no Typer, pydantic or Rich to
import first).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from trackside.commands.replay_run import BadLoops, run, speed_error

console = Console()


def _speed(value: str) -> str:
    """Validate ``--speed`` where the user typed it, so the error names the option."""
    error = speed_error(value)
    if error is not None:
        raise typer.BadParameter(error)
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
    try:
        run(files, speed, output, all_sessions, quiet, loops, control_logs or (), console)
    except BadLoops as exc:
        raise typer.BadParameter(str(exc), param_hint="--loops") from None
