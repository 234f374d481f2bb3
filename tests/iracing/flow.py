"""The OAuth dance by API: start at trackside, authorize at the fake, come back."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx

from tests.api.world import World


async def authorize(world: World, who: str = "viewer") -> tuple[str, dict[str, str]]:
    """Start as ``who`` and let the fake approve: the callback path and its query."""
    started = await world.client.get("/auth/iracing/start", headers=world.auth(who))
    assert started.status_code == 200, started.text
    async with httpx.AsyncClient() as browser:
        at_iracing = await browser.get(started.json()["authUrl"])
    assert at_iracing.status_code == 302, at_iracing.text
    back = urlsplit(at_iracing.headers["location"])
    return back.path, {k: v[0] for k, v in parse_qs(back.query).items()}


async def connect(world: World, who: str = "viewer") -> httpx.Response:
    path, query = await authorize(world, who)
    return await world.client.get(path, params=query)
