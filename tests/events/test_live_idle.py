"""A relay gone silent: the processor stops, the event is not live, results are kept.

Its own module, so the short idle timeout below does not stop other tests' processors while
they pause (a viewer would be left on a stopped processor).
"""

from __future__ import annotations

import asyncio

import pytest

from tests.api.world import World
from tests.events.livefeed import capture_lines, post_lines
from tests.events.test_live import RACE_DAY
from trackside.config import Settings
from trackside.events.racelog import EventLive


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"processor_idle_timeout_s": 0.3})


async def test_silent_relay_stops_the_processor_and_keeps_results(world: World) -> None:
    event = world.ids["public"]
    platform = world.platform
    await post_lines(world.client, world.tokens["client_relay"], event, capture_lines(*RACE_DAY))
    assert platform.processors.running(event) is not None
    for _ in range(100):
        if platform.processors.running(event) is None:
            break
        await asyncio.sleep(0.05)
    assert platform.processors.running(event) is None
    sessions = (
        await world.client.get(f"/events/{event}/sessions", headers=world.auth("viewer"))
    ).json()
    race = next(s for s in sessions if s["name"] == "Saturday 8 Hour")
    kept = (await world.client.get(f"/events/{event}/sessions/{race['id']}/results")).json()
    assert kept["cars"][1]["gap_ms"] == 787
    async with platform.db_factory() as db:
        assert (await db.get(EventLive, event)).live is False
