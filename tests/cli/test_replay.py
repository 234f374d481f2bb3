"""`trackside replay` as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from tests.conftest import REPO, capture
from trackside.cli import app

RACE_DAY = [
    capture("road-america-2025-04-26-entries.log"),
    capture("road-america-2025-04-26-grid.log"),
    capture("road-america-2025-04-26-race-start.log"),
]
CAR_KEYS = {
    "number", "registration", "name", "class", "position", "class_position", "laps",
    "total_time_ms", "last_lap_ms", "best_lap_ms", "best_lap", "gap_ms", "gap_laps",
    "difference_ms", "difference_laps", "starting_position", "positions_gained", "stale",
}  # fmt: skip


def test_replay_prints_tables_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    result = CliRunner().invoke(app, ["replay", *map(str, RACE_DAY), "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert "Saturday 8 Hour" in result.output
    data = json.loads(out.read_bytes())
    assert data["records"] == 3521 and data["errors"] == 0
    (session,) = data["sessions"]
    assert {"run", "name", "type", "flag", "flag_periods", "cars"} <= set(session)
    assert session["flag"] in {"green", "yellow", "red", "white", "finish", "none"}
    for period in session["flag_periods"]:
        assert isinstance(period["start_ms"], int)
        assert period["end_ms"] is None or isinstance(period["end_ms"], int)
    assert len(session["cars"]) == 52
    for car in session["cars"]:
        assert set(car) >= CAR_KEYS
        assert isinstance(car["gap_laps"], int) and isinstance(car["stale"], bool)


def test_full_day_as_an_installed_command(tmp_path: Path) -> None:
    out = tmp_path / "day.json"
    exe = Path(sys.executable).parent / "trackside"
    done = subprocess.run(
        [str(exe), "replay", str(capture("road-america-2025-04-25-full-day.log")),
         "--quiet", "--output", str(out)],
        capture_output=True, text=True, cwd=REPO, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    data = json.loads(out.read_bytes())
    assert len(data["sessions"]) == 11


def test_bad_speed_is_refused_with_a_message() -> None:
    result = CliRunner().invoke(app, ["replay", str(RACE_DAY[0]), "--speed", "fast"])
    assert result.exit_code == 2
    assert "speed" in result.output.lower()


def test_missing_file_is_refused() -> None:
    result = CliRunner().invoke(app, ["replay", "/nonexistent/capture.log"])
    assert result.exit_code == 2


def test_replay_at_a_set_speed_paces_by_receive_time() -> None:
    from trackside.replay import load, paced

    (loaded,) = load([capture("class-change-2025-10-17.log")])
    now = [0.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    items = list(paced(loaded.records(), 2.0, sleep=sleep, clock=lambda: now[0]))
    assert len(items) == len(list(loaded.records())) == 11
    # The capture spans one second of receive time: at 2x that is half a second of waiting.
    assert abs(sum(waits) - 0.5) < 1e-9


def test_prints_the_last_session_as_plain_text_off_a_terminal() -> None:
    day = str(capture("road-america-2025-04-25-full-day.log"))
    shown = CliRunner().invoke(app, ["replay", day])
    assert shown.exit_code == 0, shown.output
    assert "Run 66 — Race Practice 4" in shown.output
    assert "Race Practice 1" not in shown.output
    assert not set("┃━│─┏") & set(shown.output)  # a pipe gets text: no bar, no drawn table
    header = next(line for line in shown.output.splitlines() if line.startswith("Pos"))
    assert header.split()[:5] == ["Pos", "No", "Class", "PIC", "Name"]
    assert header.split()[-3:] == ["Gap", "Diff", "+/-"]
    assert "46311 records, 0 errors, 11 sessions" in shown.output
    every = CliRunner().invoke(app, ["replay", day, "--all"])
    titles = [line for line in every.output.splitlines() if line.startswith("Run ")]
    assert len(titles) == 11 and titles[0].startswith("Run 61 — Race Practice 1")


def test_a_terminal_gets_a_table(monkeypatch) -> None:
    from trackside.commands import replay as command

    monkeypatch.setattr(command.console, "_force_terminal", True)
    shown = CliRunner().invoke(app, ["replay", str(capture("class-change-2025-10-17.log"))])
    assert shown.exit_code == 0, shown.output
    assert "GP1/GP2/GP3 Qualifying" in shown.output and "┃" in shown.output


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "trackside.cli", *args],
        capture_output=True, text=True, cwd=REPO, check=False,
    )  # fmt: skip


def test_a_plain_command_line_runs_without_typer_pydantic_or_rich(tmp_path: Path) -> None:
    """``cli.main`` runs it straight away: same output and JSON as through the Typer app."""
    files = [str(path) for path in RACE_DAY]
    fast = _run("replay", *files, f"--output={tmp_path / 'fast.json'}", "--all")
    assert fast.returncode == 0, fast.stderr
    typer_run = CliRunner().invoke(
        app, ["replay", *files, "-o", str(tmp_path / "typer.json"), "--all"]
    )
    assert typer_run.exit_code == 0
    assert fast.stdout.replace("fast.json", "typer.json") == typer_run.output
    assert (tmp_path / "fast.json").read_bytes() == (tmp_path / "typer.json").read_bytes()
    probe = (
        "import sys; sys.argv = ['trackside', 'replay', *sys.argv[1:]];"
        "from trackside.cli import main; main();"
        "print(sorted(m for m in ('typer', 'pydantic', 'rich', 'sqlalchemy', 'httpx')"
        " if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe, files[0], "--quiet"],
        capture_output=True, text=True, cwd=REPO, check=False,
    )  # fmt: skip
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "[]"


def test_what_the_fast_path_does_not_understand_goes_to_typer(tmp_path: Path) -> None:
    from trackside.commands.replay_run import fast_args

    day = str(RACE_DAY[0])
    assert fast_args([day, "--speed", "10", "--no-quiet", "--control-log", day]) is not None
    for argv in ([day, "--help"], [day, "--speed", "fast"], ["/nonexistent.log"], [day, "-x"],
                 [day, "--output"], [], [day, "--loops", str(tmp_path)]):  # fmt: skip
        assert fast_args(argv) is None, argv
    assert "--control-log" in _run("replay", "--help").stdout
    refused = _run("replay", day, "--speed", "fast")
    assert refused.returncode == 2 and "speed" in refused.stderr.lower()
    (tmp_path / "loops.json").write_text('{"loops": [{"name": "A"}]}')
    bad_loops = _run("replay", day, "--loops", str(tmp_path / "loops.json"))
    assert bad_loops.returncode == 2 and "--loops" in bad_loops.stderr
