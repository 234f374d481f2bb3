"""What ``trackside replay`` does, without the command-line framework: replay, print, write.

A day's feed holds dozens of sessions; a person reads the last one (``--all`` for every one),
and a pipe or a file gets plain text, not a drawn table: rendering every session as a Rich
table used to cost more than the replay itself. Rich (the progress bar, the tables) is only
imported for a terminal.

``fast_args`` reads a plain ``trackside replay`` command line so ``cli.main`` can run it
without building the Typer app: Typer coerces every option through pydantic, and importing
Typer, pydantic and Rich cost more than a replay of a small file. Anything it does not fully
understand (``--help``, an unknown option, a missing file, a bad speed) is left to Typer,
which has the one definition of the command and its messages (``commands.replay``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from trackside import replay as replay_service
from trackside.commands.runtime import tune_gc
from trackside.feeds.clock import format_duration, format_interval
from trackside.timing.results import engine_result

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

COLUMNS = ("Pos", "No", "Class", "PIC", "Name", "Laps", "Total", "Last", "Best", "Gap", "Diff")
TEXT_COLUMNS = ("Class", "Name")
NAME_WIDTH = 24


class _Plain:
    """Where output goes off a terminal: plain text to stdout, no Rich."""

    is_terminal = False

    @property
    def file(self) -> Any:
        return sys.stdout

    def print(self, text: str, highlight: bool = False) -> None:
        sys.stdout.write(text + "\n")


class BadLoops(ValueError):
    """The ``--loops`` file is not the loops API's JSON."""


def speed_error(value: str) -> str | None:
    """Why ``--speed`` is not valid, or None."""
    if value == "max":
        return None
    try:
        speed = float(value)
    except ValueError:
        return "use 'max' or a positive number, e.g. 1 or 10"
    if not speed > 0 or speed == float("inf"):
        return "speed must be a positive number"
    return None


def run(
    files: Sequence[Path],
    speed: str = "max",
    output: Path | None = None,
    all_sessions: bool = False,
    quiet: bool = False,
    loops: Path | None = None,
    control_logs: Sequence[Path] = (),
    console: Console | _Plain | None = None,
) -> None:
    """Replay, print what a person reads, write ``output``. ``BadLoops`` for a bad ``loops``."""
    if console is None:
        console = _Plain() if quiet or not sys.stdout.isatty() else _rich_console()
    elif not console.is_terminal:
        console = _Plain()  # text as it is: no wrapping at 80 columns, no markup read in paths
    pace = None if speed == "max" else float(speed)
    layout = None
    if loops is not None:
        try:
            layout = replay_service.read_loops(loops)
        except ValueError as exc:
            raise BadLoops(str(exc)) from None
    loaded = replay_service.load(files)
    # Hundreds of thousands of short-lived records: the default collector walks the growing
    # engine state over and over (about a tenth of a replay).
    tune_gc()
    if console.is_terminal and not quiet:
        replayed = _with_progress(console, loaded, pace, layout, control_logs)  # type: ignore[arg-type]
    else:
        replayed = replay_service.replay(loaded, pace, loops=layout, control_logs=control_logs)
    result = engine_result(replayed.scorer)
    if not quiet:
        sessions = result["sessions"] if all_sessions else result["sessions"][-1:]
        for session in sessions:
            _print_session(console, session)
        console.print(_summary(result, replayed), highlight=False)
    if output is not None:
        output.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))
        if not quiet:
            console.print(f"results written to {output}", highlight=False)


def _rich_console() -> Console:
    from rich.console import Console

    return Console()


def _with_progress(
    console: Console,
    loaded: list[replay_service.ReplayFile],
    pace: float | None,
    layout: Any,
    control_logs: Sequence[Path],
) -> replay_service.Replay:
    from rich.progress import (
        BarColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    with Progress(
        TextColumn("[bold]replay"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("bytes", total=sum(f.size for f in loaded))
        return replay_service.replay(
            loaded,
            pace,
            on_progress=lambda n: progress.advance(task, n),
            loops=layout,
            control_logs=control_logs,
        )


def _summary(result: dict[str, Any], replayed: replay_service.Replay) -> str:
    text = f"{result['records']} records, {result['errors']} errors"
    scorer = replayed.scorer
    if scorer.loop_counts.crossings:
        text += f", {scorer.loop_counts.crossings} passings"
    if scorer.control_records:
        text += f", {scorer.control_records} control-log revisions"
    if replayed.bad:
        text += f", {replayed.bad} records not read"
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


def _print_session(console: Console | _Plain, session: dict[str, Any]) -> None:
    rows = [_cells(car) for car in session["cars"]]
    if console.is_terminal:
        console.print(_table(session, rows))  # type: ignore[arg-type]
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
    from rich.table import Table

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


# --- the command line without Typer ----------------------------------------------------------

_VALUED = {"--speed": "speed", "--output": "output", "-o": "output", "--loops": "loops"}
_FLAGS = {"--all": ("all_sessions", True), "--quiet": ("quiet", True)}
_FLAGS["--no-quiet"] = ("quiet", False)


def fast_args(argv: Sequence[str]) -> dict[str, Any] | None:
    """``run``'s arguments from the words after ``replay``, or None to leave them to Typer."""
    args: dict[str, Any] = {"files": [], "control_logs": []}
    words = iter(argv)
    for word in words:
        name, eq, value = word.partition("=") if word.startswith("--") else (word, "", "")
        if name in _VALUED or name == "--control-log":
            if not eq:
                value = next(words, None)  # type: ignore[assignment]
                if value is None:
                    return None
            if name == "--control-log":
                args["control_logs"].append(Path(value))
            else:
                args[_VALUED[name]] = value if name == "--speed" else Path(value)
        elif name in _FLAGS and not eq:
            key, flag = _FLAGS[name]
            args[key] = flag
        elif word.startswith("-") and word != "-":
            return None  # --help, a short option, one we do not know: Typer answers
        else:
            args["files"].append(Path(word))
    readable = [
        *args["files"],
        *args["control_logs"],
        *([args["loops"]] if "loops" in args else []),
    ]
    if not args["files"] or not all(_readable_file(path) for path in readable):
        return None
    if speed_error(args.get("speed", "max")) is not None:
        return None
    return args


def _readable_file(path: Path) -> bool:
    return path.is_file() and os.access(path, os.R_OK)
