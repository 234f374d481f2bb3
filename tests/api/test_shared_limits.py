"""Two server nodes on one Redis share their rate limits: a login limit of 3 is 3, not 3 each."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest

from tests.databases import test_settings
from trackside.api.app import create_app
from trackside.config import Settings

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def settings(tmp_path: Path, database_url: str | None, redis_url: str) -> Settings:
    return test_settings(tmp_path / "data", database_url, redis_url=redis_url, login_rate_limit=3)


async def test_two_nodes_share_the_login_limit(settings: Settings) -> None:
    nodes = [create_app(settings), create_app(settings)]
    name = f"ghost-{uuid.uuid4().hex}"  # limits live in Redis for a window: a fresh key
    async with (
        nodes[0].router.lifespan_context(nodes[0]),
        nodes[1].router.lifespan_context(nodes[1]),
    ):
        clients = [
            httpx.AsyncClient(transport=httpx.ASGITransport(app=node), base_url="http://test")
            for node in nodes
        ]
        try:
            answers = [
                await clients[n % 2].post("/auth/login", json={"username": name, "password": "x"})
                for n in range(4)
            ]
        finally:
            for client in clients:
                await client.aclose()
    assert [a.status_code for a in answers] == [401, 401, 401, 429]
    assert int(answers[3].headers["Retry-After"]) > 0
