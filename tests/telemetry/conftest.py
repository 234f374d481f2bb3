"""Telemetry fixtures: a real influxd for the session, and apps on each telemetry backend."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from tests.api.world import World, build
from tests.app import started_app
from tests.telemetry.influxd import running_influxd
from trackside.config import Settings


@pytest.fixture(scope="session")
def influxd() -> Iterator[str]:
    with running_influxd() as url:
        yield url


@pytest.fixture(params=["sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str | None:
    """Telemetry's tables are two small ones (the access matrix covers them on PostgreSQL too);
    its tests vary the points' store instead (``backend``)."""
    (tmp_path / "data").mkdir()
    shutil.copy(request.getfixturevalue("sqlite_template"), tmp_path / "data" / "trackside.db")
    return None


@pytest.fixture(params=["duckdb", "influxdb"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


def store_settings(settings: Settings, backend: str, request: pytest.FixtureRequest) -> Settings:
    if backend == "duckdb":
        return settings
    url = request.getfixturevalue("influxd").replace("http://", "influxdb://")
    db = f"t_{uuid.uuid4().hex[:10]}"  # one database per test
    return settings.model_copy(update={"telemetry_url": f"{url}/{db}"})


@pytest.fixture
async def tapp(
    settings: Settings, backend: str, request: pytest.FixtureRequest
) -> AsyncIterator[FastAPI]:
    async with started_app(store_settings(settings, backend, request)) as application:
        yield application


@pytest.fixture
async def tclient(tapp: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=tapp)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


@pytest.fixture
async def tworld(tapp: FastAPI, tclient: httpx.AsyncClient) -> World:
    return await build(tapp.state.platform, tclient)
