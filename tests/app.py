"""Fixtures for API tests: the app on each database, an in-process HTTP client, a world.

Every test gets its own platform (database, settings, keys, brokers: the lifespan of an app made
from its settings), served by one FastAPI object per middleware configuration. FastAPI builds
each route's dependants when an app first routes to it (~0.15 s for all of ours); the routers
are module-level and the middlewares stateless, so building that once, not per test, changes
nothing a test sees.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI

from tests.api.world import World, build
from trackside.api.app import create_app
from trackside.config import Settings
from trackside.platform import Platform

_SERVING: dict[tuple[int, tuple[str, ...]], FastAPI] = {}
_STARTED: set[FastAPI] = set()  # apps whose platform is running now


@asynccontextmanager
async def started_app(settings: Settings) -> AsyncIterator[FastAPI]:
    """The app for ``settings``, its platform started for the block (``app.state.platform``)."""
    fresh = create_app(settings)  # cheap: the routes are built when first routed to
    # create_app reads these two settings itself; everything else goes to the lifespan.
    key = (settings.max_body_bytes, tuple(settings.trusted_hosts))
    serving = _SERVING.setdefault(key, fresh)
    if serving in _STARTED:  # a second platform in the same test: an app of its own
        serving = fresh
    _STARTED.add(serving)
    try:
        async with fresh.router.lifespan_context(serving):
            yield serving
    finally:
        _STARTED.discard(serving)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    async with started_app(settings) as application:
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


@pytest.fixture
def app_platform(app: FastAPI) -> Platform:
    return app.state.platform


@pytest.fixture
async def world(app_platform: Platform, client: httpx.AsyncClient) -> World:
    return await build(app_platform, client)
