"""The /connections page in Chromium against the fake iRacing: sign in, the whole OAuth
redirect dance (consent page included), sync, the sessions table, disconnect."""

from __future__ import annotations

from fastapi import FastAPI

from tests.api.world import PASSWORD, World
from tests.events.livefeed import free_port, serving
from tests.iracing.fake_iracing import FakeState
from tests.web.conftest import ARTIFACTS, browser, database_url  # noqa: F401  (Chromium, SQLite)


async def _signed_in(browser, host: str):  # noqa: F811
    page = await browser.new_page(viewport={"width": 1100, "height": 900})
    await page.goto(f"http://{host}/connections")
    await page.fill("#username", "viewer")
    await page.fill("#password", PASSWORD)
    await page.click("#signin")
    await page.wait_for_selector("#connect:not([hidden])")
    return page


async def test_connect_sync_and_disconnect_in_a_browser(
    app: FastAPI,
    world: World,
    fake: FakeState,
    browser,  # noqa: F811
) -> None:
    fake.auto_approve = False  # show iRacing's consent page
    port = free_port()
    fake.redirect_uris.add(f"http://127.0.0.1:{port}/auth/iracing/callback")
    async with serving(app, port) as host:
        page = await _signed_in(browser, host)
        assert await page.text_content("#state") == "Not connected."
        await page.click("#connect")
        await page.wait_for_url(f"{fake.base_url}/oauth2/authorize?*")
        assert "Allow trackside" in await page.text_content("h1")
        await page.click("#approve")
        await page.wait_for_url(f"http://{host}/connections?success=iracing_connected")
        await page.wait_for_function(
            "document.querySelector('#state').textContent.startsWith('Connected as Ana Diaz')"
        )
        assert await page.text_content("#notice") == "iRacing connected."
        assert fake.token_forms[-1]["grant_type"] == "authorization_code"

        await page.click("#sync")
        await page.wait_for_function("document.querySelectorAll('#sessions tr').length === 3")
        assert (await page.text_content("#syncresult")).startswith("Synced 3 session(s)")
        race = page.locator("#sessions tr[data-subsession='70001'] td")
        assert await race.nth(1).text_content() == "race"
        assert await race.nth(5).text_content() == "1"  # finish, 1-based
        assert await race.nth(6).text_content() == "2"  # start, 1-based
        assert await race.nth(8).text_content() == "131.760"
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / "iracing-connections.png"), full_page=True)

        await page.click("#disconnect")
        await page.wait_for_function(
            "document.querySelector('#state').textContent === 'Not connected.'"
        )
        assert await page.is_visible("#connect")
        status = await world.client.get("/api/iracing/status", headers=world.auth("viewer"))
        assert status.json()["connected"] is False


async def test_denying_at_iracing_comes_back_with_the_error(
    app: FastAPI,
    world: World,
    fake: FakeState,
    browser,  # noqa: F811
) -> None:
    fake.auto_approve = False
    port = free_port()
    fake.redirect_uris.add(f"http://127.0.0.1:{port}/auth/iracing/callback")
    async with serving(app, port) as host:
        page = await _signed_in(browser, host)
        await page.click("#connect")
        await page.click("#deny")
        await page.wait_for_url(f"http://{host}/connections?error=access_denied")
        await page.wait_for_function(
            "document.querySelector('#notice').textContent === 'iRacing access was denied.'"
        )
        assert await page.text_content("#state") == "Not connected."
