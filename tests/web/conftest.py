"""Browser tests: Debian's chromium driven by Playwright, against a real loopback server."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import REPO

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = REPO / "test-artifacts"


@pytest.fixture(params=["sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str | None:
    """The board is the same on either database; the API tests cover both."""
    (tmp_path / "data").mkdir()
    shutil.copy(request.getfixturevalue("sqlite_template"), tmp_path / "data" / "trackside.db")
    return None


@pytest.fixture
async def browser() -> AsyncIterator[object]:
    from playwright.async_api import async_playwright

    assert Path(CHROMIUM).exists(), "Debian's chromium is needed: scripts/test installs it"
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


async def only_local(target: object) -> list[str]:
    """Let ``target`` (a page or a context) reach loopback only; the list fills with every
    outside URL it tried (a CDN would show there), each refused."""
    from urllib.parse import urlparse

    outside: list[str] = []

    async def route(request_route) -> None:  # type: ignore[no-untyped-def]
        if urlparse(request_route.request.url).hostname not in ("127.0.0.1", "localhost"):
            outside.append(request_route.request.url)
            await request_route.abort()
        else:
            await request_route.continue_()

    await target.route("**/*", route)  # type: ignore[attr-defined]
    return outside
