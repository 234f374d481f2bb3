"""The live board in a real browser: it fills from the snapshot and follows patches live."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI

from tests.api.world import World
from tests.conftest import capture
from tests.events.livefeed import capture_lines, post_lines, serving
from tests.web.conftest import ARTIFACTS, only_local

RACE_DAY = [
    capture("road-america-2025-04-26-entries.log"),
    capture("road-america-2025-04-26-grid.log"),
    capture("road-america-2025-04-26-race-start.log"),
]


async def test_board_follows_the_race_without_a_reload(app: FastAPI, world: World, browser) -> None:
    event = world.ids["public"]
    token = world.tokens["client_relay"]
    lines = capture_lines(*RACE_DAY)
    split = 2400  # during lap 1
    await post_lines(world.client, token, event, lines[:split])
    async with serving(app) as host:
        page = await browser.new_page(viewport={"width": 1200, "height": 1000})
        outside = await only_local(page)
        await page.goto(f"http://{host}/events/{event}")
        await page.wait_for_function("document.querySelectorAll('#rows tr').length >= 52")
        assert await page.text_content("#name") == "Saturday 8 Hour"
        await page.evaluate("window.stillTheSamePage = true")
        first_leader_laps = await page.text_content("#rows tr:first-child td:nth-child(6)")

        await post_lines(world.client, token, event, lines[split:], batch=100, first_seq=split + 1)
        # The leader has completed lap 3 by the end of the capture: the table must show it.
        await page.wait_for_function(
            "document.querySelector('#rows tr:first-child td:nth-child(6)').textContent === '3'",
            timeout=15_000,
        )
        assert first_leader_laps != "3"
        assert await page.evaluate("window.stillTheSamePage === true")  # no reload happened
        second = page.locator("#rows tr:nth-child(2) td")
        assert await second.nth(1).text_content() == "70"
        assert await second.nth(8).text_content() == "0.787"  # gap to the car ahead
        assert await page.get_attribute("#flagbar", "class") == "green"

        # An official declares the classification: the board says so, live.
        assert await page.text_content("#official") == "Provisional"
        sessions = await world.client.get(f"/events/{event}/sessions", headers=world.auth("viewer"))
        (race,) = [s["id"] for s in sessions.json() if s["name"] == "Saturday 8 Hour"]
        declared = await world.client.post(
            f"/events/{event}/sessions/{race}/classification/declare",
            headers=world.auth("official"),
        )
        assert declared.status_code == 200, declared.text
        await page.wait_for_function(
            "document.querySelector('#official').textContent === 'Official — revision 1'"
        )

        # Class filter: GP2 shows its own positions and in-class gaps.
        await page.select_option("#klass", "GP2")
        await page.wait_for_function("document.querySelectorAll('#rows tr').length < 52")
        rows = page.locator("#rows tr")
        ninth = rows.nth(8).locator("td")
        assert (await ninth.nth(0).text_content(), await ninth.nth(1).text_content()) == (
            "9",
            "149",
        )
        assert await ninth.nth(8).text_content() == "15.925"

        ARTIFACTS.mkdir(exist_ok=True)
        await page.select_option("#klass", "")
        await page.screenshot(path=str(ARTIFACTS / "live-board.png"), full_page=True)
        await page.set_viewport_size({"width": 390, "height": 844})  # a phone
        await page.screenshot(path=str(ARTIFACTS / "live-board-phone.png"))
        assert outside == []  # nothing fetched from the internet: works offline


async def test_events_page_lists_public_events(app: FastAPI, world: World, browser) -> None:
    async with serving(app) as host:
        page = await browser.new_page()
        await page.goto(f"http://{host}/")
        names = await page.locator("ul.events a").all_text_contents()
        assert "Summer Enduro" in names and "Test Day" not in names  # the private one is hidden
        await page.click("text=Summer Enduro")
        await page.wait_for_selector("#board")
        assert page.url.endswith(f"/events/{world.ids['public']}")


TUTORIAL_CLIENT = """(url) => new Promise((resolve, reject) => {
    const socket = new WebSocket(url);  // no binaryType: what every tutorial writes
    const seen = [];
    socket.onmessage = (event) => {
        const message = JSON.parse(event.data);
        seen.push({
            data: typeof event.data, type: message.type, epoch: message.epoch,
            version: message.version,
        });
        if (message.type === "patch") { socket.close(); resolve(seen); }
    };
    socket.onerror = () => reject(new Error("the socket failed"));
    setTimeout(() => reject(new Error("no patch came")), 20000);
})"""


async def test_a_tutorial_client_json_parses_the_live_socket(
    app: FastAPI, world: World, browser
) -> None:
    event = world.ids["public"]
    token = world.tokens["client_relay"]
    lines = capture_lines(*RACE_DAY)
    await post_lines(world.client, token, event, lines[:1000])
    async with serving(app) as host:
        page = await browser.new_page()
        await page.goto(f"http://{host}/")
        seen = asyncio.create_task(page.evaluate(TUTORIAL_CLIENT, f"ws://{host}/ws/events/{event}"))
        await asyncio.sleep(0.5)  # connected, snapshot in hand
        await post_lines(world.client, token, event, lines[1000:1400], first_seq=1001)
        messages = await asyncio.wait_for(seen, 30)
    snapshot, *_, patch = messages
    assert snapshot["data"] == patch["data"] == "string"  # text frames
    assert snapshot["type"] == "snapshot" and patch["type"] == "patch"
    assert patch["epoch"] == snapshot["epoch"] and patch["version"] > snapshot["version"]
