"""``trackside replay`` of the files == the server's live state after relaying them.

Every capture in ../shared/data (each RMonitor capture, the P3 decoder capture, and a race day
with the decoder's frames beside it), with a race-control log CSV uploaded after the feed and
the loops configured as the files say: the replay's sessions equal the live snapshot's, field
for field. The event's log export (``GET /events/{id}/log?format=jsonl``) replays to the same.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.api.world import World
from tests.conftest import DATA, RMONITOR
from tests.events.livefeed import capture_lines, post_lines
from tests.events.test_live import RACE_DAY
from tests.events.test_track_api import AMB, AMB_DECODER, post_records
from trackside.cli import app

CONTROL_LOG = """Race Control Log,,,,,,
Id,Time,Car,Corner,Description,Penalty,Status
1,10:02:00,2,T5,Contact,Warning,
2,10:15:30,70,T1,Jump start,Drive through,
3,10:20:00,11 / 2,T14,Avoidable contact,1 lap,
4,10:25:00,Tx3438895,Pit,Pit lane speed,2 laps,
5,10:31:00,7,T3,Track limits,Warning,Void
6,,9,T8,Spin,,
"""
FINISH = {"loops": [{"name": "Finish", "kind": "start_finish", "decoderId": f"0x{AMB_DECODER:x}"}]}
CAPTURES = sorted(path.name for path in RMONITOR.glob("*.log"))


def _replayed(tmp_path: Path, files: list[Path], loops: dict | None, csv: bool) -> list[dict]:
    out = tmp_path / "replay.json"
    args = ["replay", *map(str, files), "--quiet", "--output", str(out)]
    if loops is not None:
        (tmp_path / "loops.json").write_text(json.dumps(loops))
        args += ["--loops", str(tmp_path / "loops.json")]
    if csv:
        (tmp_path / "control-log.csv").write_text(CONTROL_LOG)
        args += ["--control-log", str(tmp_path / "control-log.csv")]
    ran = CliRunner().invoke(app, args)
    assert ran.exit_code == 0, ran.output
    sessions = json.loads(out.read_bytes())["sessions"]
    for session in sessions:
        del session["records"]  # live sessions leave out the record counter
    return sessions


async def _live(world: World, event: int) -> list[dict]:
    sessions = (await world.client.get(f"/events/{event}/live")).json()["sessions"]
    for session in sessions:
        del session["classification"]  # the officials' status, not the scorer's
    return sessions


async def _event(world: World, loops: dict | None) -> int:
    """The public event, with no entries (replay knows none) and the given loops."""
    event = world.ids["public"]
    deleted = await world.client.delete(
        f"/events/{event}/entries/{world.ids['entry']}", headers=world.auth("official")
    )
    assert deleted.status_code == 204, deleted.text
    if loops is not None:
        put = await world.client.put(
            f"/events/{event}/loops", json=loops, headers=world.auth("official")
        )
        assert put.status_code == 200, put.text
    return event


async def _upload_control_log(world: World, event: int) -> None:
    headers = {**world.auth("official"), "Content-Type": "text/csv"}
    uploaded = await world.client.post(
        f"/events/{event}/control-log", content=CONTROL_LOG, headers=headers
    )
    assert uploaded.status_code == 200, uploaded.text
    assert uploaded.json()["new"] == 6


async def _same(world: World, event: int, files: list[Path], loops: dict | None, tmp: Path) -> None:
    live = await _live(world, event)
    assert _replayed(tmp / "files", files, loops, csv=True) == live
    # The log export replays to the same, with no CSV: its revisions are in the log.
    export = await world.client.get(
        f"/events/{event}/log?format=jsonl", headers=world.auth("official")
    )
    assert export.status_code == 200, export.text
    assert export.headers["content-type"].startswith("application/x-ndjson")
    log = tmp / "log" / "event.jsonl"
    log.parent.mkdir()
    log.write_bytes(export.content)
    lines = [json.loads(line) for line in export.text.splitlines()]
    assert [line["position"] for line in lines] == list(range(1, len(lines) + 1))
    assert {"controllog"} <= {line["type"] for line in lines}
    assert _replayed(tmp / "log", [log], loops, csv=False) == live


def _dirs(tmp_path: Path) -> Path:
    (tmp_path / "files").mkdir()
    return tmp_path


# Every capture on SQLite; PostgreSQL stores and exports the same log through the same code, so
# one real race there (with the decoder and race-day tests below, on both) proves its part.
ON_POSTGRESQL = "road-america-2025-04-26-race-start.log"
CAPTURE_CASES = [("sqlite", name) for name in CAPTURES] + [("postgresql", ON_POSTGRESQL)]


@pytest.mark.parametrize(("database_url", "name"), CAPTURE_CASES, indirect=["database_url"])
async def test_each_rmonitor_capture(world: World, tmp_path: Path, name: str) -> None:
    event = await _event(world, None)
    path = RMONITOR / name
    await post_lines(
        world.client, world.tokens["client_relay"], event, capture_lines(path), batch=1000
    )
    await _upload_control_log(world, event)
    await _same(world, event, [path], None, _dirs(tmp_path))


async def test_the_p3_decoder_capture(world: World, tmp_path: Path) -> None:
    event = await _event(world, FINISH)
    await post_records(world, event, "p3", "p3", AMB.read_text().split())
    await _upload_control_log(world, event)
    await _same(world, event, [AMB], FINISH, _dirs(tmp_path))
    (session,) = await _live(world, event)
    # Kart Tx3438895's 29 laps less the control log's 2 penalty laps.
    assert [(car["laps"], car["penalty_laps"]) for car in session["cars"]] == [
        (27, 2),
        (26, 0),
        (25, 0),
    ]


async def test_a_race_day_with_the_decoder_beside_it(world: World, tmp_path: Path) -> None:
    """RMonitor and P3 together: the decoder's frames after the feed, as a second source."""
    loops = {"loops": [{"name": "Pit In", "kind": "pit_in", "decoderId": AMB_DECODER}]}
    event = await _event(world, loops)
    await post_lines(world.client, world.tokens["client_relay"], event, capture_lines(*RACE_DAY))
    await post_records(world, event, "p3", "p3", AMB.read_text().split())
    await _upload_control_log(world, event)
    await _same(world, event, [*RACE_DAY, AMB], loops, _dirs(tmp_path))


def test_typed_capture_blocks_are_records_of_their_type(tmp_path: Path) -> None:
    """A ``##time|p3`` block in a capture holds decoder frames: replayed like the raw capture."""
    frames = AMB.read_text().split()
    capture = tmp_path / "mixed.log"
    capture.write_text(
        "".join(
            f"##2019-03-02 16:{minute:02d}:00.000|p3\n" + "\n".join(chunk) + "\n"
            for minute, chunk in enumerate(frames[i : i + 100] for i in range(0, len(frames), 100))
        )
    )
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    raw = _replayed(tmp_path / "a", [AMB], FINISH, csv=False)
    typed = _replayed(tmp_path / "b", [capture], FINISH, csv=False)
    assert typed == raw and [car["laps"] for car in raw[0]["cars"]] == [29, 26, 25]


def test_data_folder_has_the_captures_this_covers() -> None:
    assert (DATA / "p3" / "amb.out").exists() and len(CAPTURES) >= 9
    assert ON_POSTGRESQL in CAPTURES
