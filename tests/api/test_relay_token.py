"""The relay gets its token from a real server whatever that server's realm is, and tells a
refusal (wrong secret, no token endpoint) from an outage."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from tests.api.world import World
from tests.databases import test_settings
from trackside.config import Settings
from trackside.relay.auth import TokenClient
from trackside.relay.errors import Refused

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def settings(tmp_path: Path, database_url: str | None) -> Settings:
    return test_settings(tmp_path / "data", database_url, realm="paddock")


async def test_a_server_with_another_realm_gives_the_relay_a_token(
    app: FastAPI, world: World
) -> None:
    client_id, secret = world.secrets["relay"]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport) as http:
        token = await TokenClient(http, "http://test", client_id, secret).get()
        status = await http.get(
            f"http://test/relay/events/{world.ids['public']}/records/ack",
            params={"source": "rmonitor"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert status.status_code == 200, status.text
        with pytest.raises(Refused, match="credentials refused"):
            await TokenClient(http, "http://test", client_id, "wrong").get()
        with pytest.raises(Refused, match="no token endpoint"):
            await TokenClient(http, "http://test/not-trackside", client_id, secret).get()
