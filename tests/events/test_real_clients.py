"""Real clients against a real server: ``trackside serve`` in its own process on loopback.

authlib's OAuth2 client, plain httpx and the reference's curl lines obtain client-credentials
tokens and call the Status API; the signing key survives a restart.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt
import pytest
from authlib.integrations.httpx_client import AsyncOAuth2Client

from trackside.config import Settings

TOKEN_PATH = "/realms/trackside/protocol/openid-connect/token"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKSIDE_")}
    env.update(
        TRACKSIDE_DATA_DIR=str(settings.data_dir),
        TRACKSIDE_ARGON2_TIME_COST="1",
        TRACKSIDE_ARGON2_MEMORY_KIB="8",
        TRACKSIDE_ARGON2_PARALLELISM="1",
        TRACKSIDE_LOG_LEVEL="warning",
    )
    if settings.database_url:
        env["TRACKSIDE_DATABASE_URL"] = settings.database_url
    return env


def _cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "trackside.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


class Server:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.log = tempfile.TemporaryFile()  # noqa: SIM115  (a file: a full pipe would block)

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "trackside.cli", "serve", "--host", "127.0.0.1",
             "--port", str(self.port)],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.log.seek(0)
                raise AssertionError(self.log.read().decode())
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError("server did not become ready")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)
        self.process = None


@pytest.fixture
def server(settings: Settings) -> Iterator[Server]:
    running = Server(_env(settings))
    running.start()
    try:
        yield running
    finally:
        running.stop()


def _seed(server: Server) -> tuple[str, str, int]:
    """An admin makes an organization and an event over HTTP; the CLI makes a relay client."""
    _cli(server.env, "users", "create", "boss", "--email", "boss@example.org",
         "--password", "boss password", "--role", "admin")  # fmt: skip
    with httpx.Client(base_url=server.url) as http:
        login = http.post("/auth/login", json={"username": "boss", "password": "boss password"})
        headers = {"Authorization": f"Bearer {login.json()['access']}"}
        org = http.post("/organization", json={"name": "Club"}, headers=headers).json()
        event = http.post(
            "/events",
            json={
                "name": "Spring Cup",
                "startDate": "2025-04-05T08:00:00Z",
                "endDate": "2025-04-06T17:00:00Z",
                "location": "Thunderhill",
                "organizationId": org["id"],
            },
            headers=headers,
        )
        assert event.status_code == 201, event.text
        event_id = event.json()["id"]
        session = http.post(
            f"/events/{event_id}/sessions",
            json={"name": "Race", "type": "race", "startTime": "2025-04-06T13:00:00Z"},
            headers=headers,
        )
        assert session.status_code == 201
    args = ["clients", "create", "relay", "--role", "official", "--event", str(event_id)]
    made = json.loads(_cli(server.env, *args, "--json"))
    assert set(made) == {"client_id", "client_secret"}
    return made["client_id"], made["client_secret"], event_id


async def _authlib(server: Server, client_id: str, secret: str, event_id: int) -> None:
    for method in ("client_secret_basic", "client_secret_post"):
        async with AsyncOAuth2Client(
            client_id, secret, token_endpoint_auth_method=method, base_url=server.url
        ) as oauth:
            token = await oauth.fetch_token(
                f"{server.url}{TOKEN_PATH}", grant_type="client_credentials"
            )
            assert token["token_type"] == "Bearer"
            assert token["expires_in"] == 300
            events = await oauth.get("/events")
            assert events.status_code == 200, method
            assert [e["name"] for e in events.json()] == ["Spring Cup"]
            sessions = await oauth.get(f"/events/{event_id}/sessions")
            assert [s["type"] for s in sessions.json()] == ["race"]
            organizations = await oauth.get("/organization")
            assert [o["name"] for o in organizations.json()] == ["Club"]


def _httpx_and_curl(server: Server, client_id: str, secret: str, event_id: int) -> str:
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    token = httpx.post(f"{server.url}{TOKEN_PATH}", data=form).json()["access_token"]
    event = httpx.get(
        f"{server.url}/events/{event_id}", headers={"Authorization": f"Bearer {token}"}
    )
    assert event.json()["location"] == "Thunderhill"

    curl = shutil.which("curl")
    assert curl, "curl is needed for the reference's examples"
    token_call = [
        curl, "-s", "-X", "POST", f"{server.url}{TOKEN_PATH}",
        "-H", "Content-Type: application/x-www-form-urlencoded",
        "-d", "grant_type=client_credentials",
        "-d", f"client_id={client_id}",
        "-d", f"client_secret={secret}",
    ]  # fmt: skip
    body = json.loads(subprocess.run(token_call, capture_output=True, text=True).stdout)
    assert body["token_type"] == "Bearer"
    list_call = [
        curl,
        "-s",
        "-H",
        f"Authorization: Bearer {body['access_token']}",
        f"{server.url}/events",
    ]
    listed = subprocess.run(list_call, capture_output=True, text=True).stdout
    assert [e["id"] for e in json.loads(listed)] == [event_id]

    # The published keys verify what the server signed.
    discovery = httpx.get(f"{server.url}/realms/trackside/.well-known/openid-configuration")
    keys = jwt.PyJWKClient(discovery.json()["jwks_uri"])
    signing = keys.get_signing_key_from_jwt(token)
    claims = jwt.decode(token, signing.key, algorithms=["RS256"], audience="trackside")
    assert claims["iss"] == f"{server.url}/realms/trackside"
    assert claims["event_id"] == event_id
    return token


async def test_real_clients_against_trackside_serve(server: Server, settings: Settings) -> None:
    for path in ("/docs", "/healthz", "/readyz", "/openapi.json"):
        assert httpx.get(f"{server.url}{path}").status_code == 200, path
    client_id, secret, event_id = _seed(server)
    await _authlib(server, client_id, secret, event_id)
    token = _httpx_and_curl(server, client_id, secret, event_id)
    jwks = httpx.get(f"{server.url}/realms/trackside/protocol/openid-connect/certs").json()

    server.stop()  # the signing key was made on first start and is kept
    server.start()
    assert httpx.get(f"{server.url}/realms/trackside/protocol/openid-connect/certs").json() == jwks
    still = httpx.get(f"{server.url}/events", headers={"Authorization": f"Bearer {token}"})
    assert still.status_code == 200
    if not settings.database_url:
        assert (Path(settings.data_dir) / "trackside.db").exists()
