"""The live map in Debian's chromium: a simulated field on a blank map (no tiles), its course,
checkpoints, trails and markers, live updates without a reload, a stale participant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

import pytest
from fastapi import FastAPI

from tests.api.world import World
from tests.databases import test_settings
from tests.events.livefeed import serving
from tests.tracking.helpers import bearer, new_user
from tests.web.conftest import ARTIFACTS, browser, database_url  # noqa: F401  (fixtures)
from trackside.config import Settings
from trackside.events import service as events
from trackside.sim.tracking import SimulatedField


@pytest.fixture
def settings(tmp_path: Path, database_url: str | None) -> Settings:  # noqa: F811
    return test_settings(
        tmp_path / "data", database_url, tracking_tile_url="", tracking_map_throttle_s=0.2
    )


async def _send(world: World, token: str, position, when: datetime) -> None:
    made = await world.client.post(
        "/api/location-reports/",
        json={
            "latitude": position.lat,
            "longitude": position.lon,
            "speed": position.speed,
            "heading": position.heading,
            "battery": position.battery,
            "timestamp": when.isoformat(),
        },
        headers=bearer(token),
    )
    assert made.status_code == 201, made.text


async def test_map_shows_the_field_live(app: FastAPI, world: World, browser) -> None:  # noqa: F811
    now = datetime.now(UTC).replace(microsecond=0)
    async with world.platform.db_factory() as db:
        event = await events.create_event(
            db,
            {
                "organization_id": world.ids["org_a"],
                "name": "Lake Trail 10k",
                "start_date": now - timedelta(hours=1),
                "end_date": now + timedelta(hours=2),
                "location": "Warsaw",
                "visibility": "public",
            },
        )
    organizer = world.auth("organizer")
    sim = SimulatedField.make(5, seed=7)
    assert (
        await world.client.put(
            f"/events/{event.id}/tracking/settings", json={"mapPublic": True}, headers=organizer
        )
    ).status_code == 200
    start, middle = sim.along(0)[0], sim.along(sim.length_m / 2)[0]
    course = {
        "checkpoints": [
            {"name": "Start", "kind": "circle", "center": list(start), "radiusM": 25},
            {"name": "Half", "kind": "circle", "center": list(middle), "radiusM": 25},
        ]
    }
    put = await world.client.put(
        f"/events/{event.id}/tracking/checkpoints", json=course, headers=organizer
    )
    assert put.status_code == 200, put.text
    tokens = {}
    for mover in sim.movers:
        tokens[mover.name] = await new_user(world, mover.name)
        added = await world.client.post(
            f"/events/{event.id}/tracking/participants",
            json={"username": mover.name},
            headers=organizer,
        )
        assert added.status_code == 201
    # Two minutes of the race, a fix every 10 s; the last runner's phone went quiet 10 min ago.
    for step in range(13):
        for index, mover in enumerate(sim.movers):
            t = step * 10
            if index == len(sim.movers) - 1:
                when = now - timedelta(minutes=20) + timedelta(seconds=t)
            else:
                when = now - timedelta(seconds=120 - t)
            await _send(world, tokens[mover.name], sim.position(mover, t), when)

    async with serving(app) as host:
        page = await browser.new_page(viewport={"width": 1200, "height": 800})
        outside: list[str] = []

        async def only_local(route) -> None:
            if urlparse(route.request.url).hostname not in ("127.0.0.1", "localhost"):
                outside.append(route.request.url)
                await route.abort()
            else:
                await route.continue_()

        await page.route("**/*", only_local)
        await page.goto(f"http://{host}/events/{event.id}/map")
        await page.wait_for_function("document.body.dataset.ready === 'true'", timeout=15_000)
        assert await page.locator("path.participant").count() == 5
        assert await page.locator("#rows tr").count() == 5
        assert await page.locator("#rows tr.stale").count() == 1
        assert await page.locator("path.stale").count() == 1
        # Trails and the two checkpoints are drawn on the blank map (no tiles anywhere).
        assert await page.locator("path.leaflet-interactive").count() >= 5 + 5 + 2
        assert await page.locator(".leaflet-tile").count() == 0
        await page.evaluate("window.stillTheSamePage = true")
        first = page.locator("#rows tr").first
        assert await first.locator(".speed").text_content() != "—"
        assert await first.locator(".batt").text_content() != "—"

        # The field moves on: the map follows without a reload; the quiet runner comes back.
        for mover in sim.movers:
            await _send(world, tokens[mover.name], sim.position(mover, 130), now)
        await page.wait_for_function("Number(document.body.dataset.updates || 0) >= 1")
        await page.wait_for_function("document.querySelectorAll('#rows tr.stale').length === 0")
        assert await page.evaluate("window.stillTheSamePage === true")
        await first.click()  # follow the first runner
        assert await page.locator("#rows tr.followed").count() == 1

        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / "tracking-map.png"))
        await page.set_viewport_size({"width": 390, "height": 844})
        await page.screenshot(path=str(ARTIFACTS / "tracking-map-phone.png"))
        assert outside == []
