"""The /telemetry page in Chromium: log in, chart live points, overlay a lap on the best one."""

from __future__ import annotations

import time
from urllib.parse import urlparse

from fastapi import FastAPI

from tests.api.world import PASSWORD, World
from tests.events.livefeed import serving
from tests.telemetry.test_laps import race
from tests.web.conftest import ARTIFACTS


async def write_recent(world: World, seconds: int, offset_s: int = 0) -> None:
    now_ms = int(time.time() * 1000)
    lines = [
        f"car,car=7 speed={150 + (s % 30)},throttle={(s % 10) / 10},rpm={9000 + 50 * (s % 40)}i"
        f" {(now_ms - (seconds - s + offset_s) * 1000) * 1_000_000}"
        for s in range(seconds)
    ]
    written = await world.client.post(
        "/api/v2/write",
        params={"bucket": "telemetry", "org": "team"},
        content="\n".join(lines),
        headers=world.auth("telemetry_writer"),
    )
    assert written.status_code == 204, written.text


async def test_telemetry_page_charts_live_and_overlays_laps(
    app: FastAPI, world: World, browser
) -> None:
    await write_recent(world, 120, offset_s=5)
    session_id = await race(world)
    async with serving(app) as host:
        page = await browser.new_page(viewport={"width": 1200, "height": 1100})
        outside: list[str] = []

        async def only_local(route) -> None:
            if urlparse(route.request.url).hostname not in ("127.0.0.1", "localhost"):
                outside.append(route.request.url)
                await route.abort()
            else:
                await route.continue_()

        await page.route("**/*", only_local)
        await page.goto(f"http://{host}/telemetry")
        await page.fill("#login input[name=username]", "telemetry_writer")
        await page.fill("#login input[name=password]", PASSWORD)
        await page.click("#login button")
        await page.wait_for_selector("#chart .uplot canvas")
        assert await page.text_content("#who") == "telemetry_writer · level 5"
        await page.wait_for_function(
            "window.telemetryChart && window.telemetryChart.data[0].length >= 100"
        )
        labels = await page.evaluate("window.telemetryChart.series.slice(1).map(s => s.label)")
        assert sorted(labels) == ["rpm", "speed", "throttle"]

        # live: points written now appear without a reload
        before = await page.evaluate("window.telemetryChart.data[0].length")
        await write_recent(world, 4)
        await page.wait_for_function(
            f"window.telemetryChart.data[0].length >= {before + 4}", timeout=10_000
        )

        await page.fill("#lap-event", str(world.ids["public"]))
        await page.fill("#lap-session", str(session_id))
        await page.fill("#lap-car", "7")
        await page.fill("#lap-number", "3")
        await page.click("#lap-show")
        await page.wait_for_function("window.lapChart && window.lapChart.data[0].length > 90")
        lap_labels = await page.evaluate("window.lapChart.series.slice(1).map(s => s.label)")
        assert lap_labels == ["lap 3 (99.000 s)", "best: lap 2 (98.000 s)"]
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / "telemetry.png"), full_page=True)
        assert outside == []  # uPlot is vendored: nothing fetched from the internet
