"""`trackside demo` as the README runs it: a server, a demo event and a simulated live race."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from sqlalchemy import select

from tests.conftest import REPO, capture
from tests.databases import test_settings
from trackside.events.models import RaceSession
from trackside.events.racelog import SessionResult
from trackside.platform import Platform


def _demo(tmp_path: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKSIDE_")}
    env["TRACKSIDE_DATA_DIR"] = str(tmp_path / "data")
    exe = Path(sys.executable).parent / "trackside"
    done = subprocess.run(
        [str(exe), "demo", "--port", "0", "--exit-when-done", *args],
        capture_output=True, text=True, cwd=REPO, env=env, timeout=240, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


async def _kept(data_dir: Path) -> list[tuple[str, bool, dict]]:
    platform = await Platform.start(test_settings(data_dir, None), with_keys=False)
    try:
        async with platform.db_factory() as db:
            rows = (
                await db.execute(
                    select(RaceSession.name, SessionResult.finished, SessionResult.data).join(
                        SessionResult, SessionResult.session_id == RaceSession.id
                    )
                )
            ).all()
        return [(name, finished, orjson.loads(data)) for name, finished, data in rows]
    finally:
        await platform.close()


@pytest.fixture(scope="module")
def race_demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """One simulated race, run once for the race and the telemetry tests (the same seed makes
    the same race at any speed; 60x is slow enough for 20 Hz telemetry within each lap)."""
    root = tmp_path_factory.mktemp("race-demo")
    return _demo(root, "--speed", "60", "--minutes", "6"), root / "data"


def test_demo_drives_a_simulated_race_to_the_finish(race_demo: tuple[str, Path]) -> None:
    out, data_dir = race_demo
    assert re.search(r"Live timing: http://127\.0\.0\.1:\d+/events/1", out)
    ((name, finished, result),) = asyncio.run(_kept(data_dir))
    assert name == "Trackside Sprint Race" and finished
    assert result["type"] == "race" and result["flag"] == "finish"
    assert len(result["cars"]) == 24
    assert {p["flag"] for p in result["flag_periods"]} >= {"green", "yellow", "finish"}
    assert result["cars"][0]["laps"] >= 2


def test_demo_replays_a_capture(tmp_path: Path) -> None:
    files = [
        capture("road-america-2025-04-26-entries.log"),
        capture("road-america-2025-04-26-grid.log"),
        capture("road-america-2025-04-26-race-start.log"),
    ]
    replay_args = [arg for path in files for arg in ("--replay", str(path))]
    out = _demo(tmp_path, "--speed", "1000", *replay_args)
    assert "Feed finished" in out
    ((name, _finished, result),) = asyncio.run(_kept(tmp_path / "data"))
    assert name == "Saturday 8 Hour"
    assert [car["number"] for car in result["cars"][:2]] == ["2", "70"]


def test_demo_cars_send_telemetry_that_laps_cut(race_demo: tuple[str, Path]) -> None:
    out, data_dir = race_demo
    sent = int(re.search(r"telemetry: (\d+) points sent", out).group(1))  # type: ignore[union-attr]
    assert sent > 24 * 20  # every car, 20 samples a second, for several seconds

    async def check() -> None:
        from trackside.events import live_reads
        from trackside.events import service as events
        from trackside.telemetry import laps, service
        from trackside.telemetry.store import Selection

        platform = await Platform.start(test_settings(data_dir, None), with_keys=False)
        try:
            telemetry = platform.telemetry
            everything = Selection("telemetry", "car", ("speed",), (), 0, 2**62)
            [speed] = await telemetry.store.count(everything)
            assert speed.count == [sent]
            described = await service.describe(telemetry, "telemetry")
            assert set(described[0].fields) == {
                "speed", "throttle", "brake", "rpm", "gear", "lat", "lon"
            }  # fmt: skip
            async with platform.db_factory() as db:
                event = await events.get_event(db, 1)
                session_id = await db.scalar(select(RaceSession.id))
                assert session_id is not None
                windows = await live_reads.lap_windows(
                    db, platform.processors, event, session_id, described[0].tags["car"][0]
                )
            assert windows, "the car completed laps"
            lap = await laps.points(
                telemetry,
                windows[0],
                bucket="telemetry",
                measurement="car",
                fields=("speed",),
                tags=(("car", described[0].tags["car"][0]),),
            )
            # 20 Hz of wall time over a lap run at 60x: a lap of ~150 s lasts ~2.5 s
            [points] = lap.series
            assert len(points.times) >= windows[0].lap_time_ms / 60 / 1000 * 20 * 0.7
        finally:
            await platform.close()

    asyncio.run(check())
