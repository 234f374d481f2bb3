"""Fixtures for API tests: the app on each database, an in-process HTTP client, a world."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from tests.api.world import World, build
from trackside.api.app import create_app
from trackside.config import Settings
from trackside.platform import Platform


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
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
