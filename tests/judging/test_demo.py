"""`trackside demo --judges`: simulated judges tap a manual 5K in through the app's REST, and
the competition is on the board as a session with its result kept."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
from sqlalchemy import select

from tests.cli.test_demo import _demo
from tests.databases import test_settings
from trackside.events.models import RaceSession
from trackside.events.racelog import SessionResult
from trackside.platform import Platform


async def _kept(data_dir: Path) -> list[tuple[str, bool, dict]]:
    platform = await Platform.start(test_settings(data_dir, None), with_keys=False)
    try:
        async with platform.db_factory() as db:
            query = select(RaceSession.name, SessionResult.finished, SessionResult.data).join(
                SessionResult, SessionResult.session_id == RaceSession.id
            )
            rows = (await db.execute(query)).all()
        return [(name, finished, orjson.loads(data)) for name, finished, data in rows]
    finally:
        await platform.close()


def test_demo_judges_time_a_manual_competition(tmp_path: Path) -> None:
    out = _demo(tmp_path, "--judges", "--speed", "400", "--minutes", "3")
    assert "/judge/" in out and "judges tapped 90/90 runners" in out
    ((name, finished, result),) = asyncio.run(_kept(tmp_path / "data"))
    assert name == "Demo 5K (judges' phones)" and finished
    assert result["flag"] == "finish"
    cars = result["cars"]
    assert len(cars) == 6 and all(car["laps"] == 15 for car in cars)
    times = [car["total_time_ms"] for car in cars]
    assert times == sorted(times)  # all 15 in: the lower team time ranks first
