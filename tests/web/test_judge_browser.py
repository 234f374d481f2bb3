"""The judge page on a phone-sized Chromium: the start is pushed and the clock runs; 15 taps
with the network cut half-way and a reload in the middle all reach the server exactly once,
in order, with the right times, though the phone's clock is two hours off."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

from fastapi import FastAPI

from tests.api.world import PASSWORD, World
from tests.events.livefeed import serving
from tests.judging.world import add_judging
from tests.web.conftest import ARTIFACTS, only_local

PHONE = {"width": 390, "height": 844}
# The phone's clock is two hours fast: the page must time from the server's clock.
SKEWED_CLOCK = """
(() => {
  const skew = 2 * 3600 * 1000;
  const Real = Date;
  class Skewed extends Real {
    constructor(...args) { if (args.length === 0) super(Real.now() + skew); else super(...args); }
    static now() { return Real.now() + skew; }
  }
  window.Date = Skewed;
})();
"""


def _now_ms() -> float:
    return time.time() * 1000


async def test_judge_page_taps_survive_offline_and_a_reload(
    app: FastAPI, world: World, browser
) -> None:
    await add_judging(world)
    event, competition, team = world.ids["public"], world.ids["competition"], world.ids["team"]
    async with serving(app) as host:
        context = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
        await context.add_init_script(SKEWED_CLOCK)
        outside = await only_local(context)
        page = await context.new_page()
        try:
            await page.goto(f"http://{host}/judge")
            await page.wait_for_function("window.judgeReady === true")
            await page.fill("#username", "judge")
            await page.fill("#password", PASSWORD)
            await page.click("#login-form button[type=submit]")
            await page.click(f"#team-list button[data-team='{team}']")
            await page.wait_for_selector("#net.online")
            assert await page.is_disabled("#tap")  # not started yet
            assert await page.text_content("#phase") in ("Starts in", "Waiting for the start")
            await page.wait_for_function("navigator.serviceWorker.controller !== null")

            # The organizer starts: the page hears it over the socket and the clock runs.
            started = await world.client.post(
                f"/events/{event}/competitions/{competition}/start",
                headers=world.auth("organizer"),
            )
            assert started.status_code == 200, started.text
            start_ms = datetime.fromisoformat(started.json()["startedAt"]).timestamp() * 1000
            await page.wait_for_selector("#clock[data-running='true']")
            first = await page.text_content("#clock")
            await page.wait_for_function(
                f"document.querySelector('#clock').textContent !== '{first}'"
            )
            assert await page.text_content("#phase") == "Running"

            windows: list[tuple[float, float]] = []

            async def tap() -> None:
                before = _now_ms()
                await page.click("#tap")
                windows.append((before, _now_ms()))
                await asyncio.sleep(0.12)

            for _ in range(6):
                await tap()
            # A tap undone within its few seconds never leaves the phone.
            await page.click("#tap")
            await page.click("#undo")
            await page.wait_for_function("document.querySelectorAll('#taps li').length === 6")
            await tap()
            await page.wait_for_function(
                "document.querySelectorAll('#taps li[data-state=confirmed]').length === 7",
                timeout=20_000,
            )

            await context.set_offline(True)
            for _ in range(3):
                await tap()
            await page.reload()  # offline: the service worker serves the page
            await page.wait_for_function("window.judgeReady === true")
            await page.wait_for_function("document.querySelectorAll('#taps li').length === 10")
            for _ in range(5):
                await tap()
            assert await page.text_content("#count") == "15 of 15"
            assert await page.is_visible("#done")
            assert await page.is_disabled("#tap")
            await asyncio.sleep(4.5)  # past the undo window: the taps would go, if they could
            offline = await page.locator("#taps li[data-state=saved]").count()
            assert offline == 8, "taps made offline stay saved on the phone"

            await context.set_offline(False)
            await page.wait_for_function(
                "document.querySelectorAll('#taps li[data-state=confirmed]').length === 15",
                timeout=30_000,
            )
            page_ids = await page.eval_on_selector_all(
                "#taps li", "items => items.map(li => li.dataset.id)"
            )
        except Exception:
            ARTIFACTS.mkdir(exist_ok=True)
            await page.screenshot(path=str(ARTIFACTS / "judge-page.png"))
            raise
        finally:
            await context.close()
    assert outside == []

    results = await world.client.get(
        f"/events/{event}/competitions/{competition}/results", headers=world.auth("organizer")
    )
    (line,) = [t for t in results.json()["teams"] if t["teamId"] == team]
    assert line["runners"] == 15
    records = line["records"]
    assert [r["id"] for r in records] == page_ids  # each once, in tap order
    times = [r["timeMs"] for r in records]
    assert times == sorted(times)
    for time_ms, (before, after) in zip(times, windows, strict=True):
        assert before - start_ms - 1_000 <= time_ms <= after - start_ms + 1_000
