"""A whole track-to-screen stack of real processes for end-to-end tests: ``trackside serve`` on
SQLite in a temp dir, ``trackside relay`` processes, and a timing feed on loopback TCP.

Everything runs as a person would run it: the CLI makes the admin and the relay's client, the
admin makes the event over HTTP. Waits are bounded and poll; nothing here times anything.
"""

from __future__ import annotations

import asyncio
import json
import random
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

from tests.conftest import REPO
from tests.databases import test_settings
from tests.events.livefeed import free_port
from tests.events.test_real_clients import _env
from tests.relay.helpers import chunks

PASSWORD = "boss password"


def environment(data_dir: Path) -> dict[str, str]:
    """The environment of every process: SQLite in ``data_dir``, cheap password hashing."""
    return _env(test_settings(data_dir, None))


async def until(check: Callable[[], Awaitable[bool] | bool], what: str, timeout: float) -> None:
    """Poll ``check`` until it holds; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        done = check()
        if not isinstance(done, bool):
            done = await done
        if done:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"not in {timeout:g} s: {what}")
        await asyncio.sleep(0.05)


async def cli(env: dict[str, str], *args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "trackside.cli", *args, cwd=REPO, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, err.decode()
    return out.decode()


class Process:
    """A trackside command in its own process, its output appended to a log file."""

    clean_exits: tuple[int, ...] = (0,)

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        self.process: asyncio.subprocess.Process | None = None

    async def spawn(self, *args: str) -> None:
        with self.log.open("ab") as out:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "trackside.cli", *args,
                cwd=REPO, env=self.env, stdout=out, stderr=out,
            )  # fmt: skip

    def running(self) -> bool:
        assert self.process is not None and self.process.returncode is None, self.log.read_text()
        return True

    async def kill(self) -> None:
        """SIGKILL: no shutdown, nothing flushed that was not already committed."""
        assert self.process is not None
        self.process.kill()
        assert await self.process.wait() == -signal.SIGKILL
        self.process = None

    async def stop(self) -> None:
        """SIGTERM, and a clean exit."""
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(self.process.wait(), 30)
            assert code in self.clean_exits, f"{self.log}: exit {code}\n{self.log.read_text()}"
        self.process = None


class Server(Process):
    """``trackside serve`` on a fixed port, so a restart is found where it was."""

    # uvicorn shuts down cleanly, then raises the signal again for the default handler.
    clean_exits = (0, -signal.SIGTERM)

    def __init__(self, env: dict[str, str], log: Path) -> None:
        super().__init__(env, log)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        await self.spawn("serve", "--port", str(self.port))

        async def ready() -> bool:
            self.running()
            try:
                async with httpx.AsyncClient() as http:
                    return (await http.get(f"{self.url}/readyz", timeout=1)).status_code == 200
            except httpx.TransportError:
                return False

        await until(ready, "the server is ready", 60)


async def seed(server: Server) -> tuple[str, str, int, dict[str, str]]:
    """An admin (CLI) makes an organization and a public event (HTTP); the CLI makes the
    event's relay client. Returns its id and secret, the event id, the admin's headers."""
    await cli(server.env, "users", "create", "boss", "--email", "boss@example.org",
              "--password", PASSWORD, "--role", "admin")  # fmt: skip
    async with httpx.AsyncClient(base_url=server.url) as http:
        login = await http.post("/auth/login", json={"username": "boss", "password": PASSWORD})
        headers = {"Authorization": f"Bearer {login.json()['access']}"}
        org = (await http.post("/organization", json={"name": "Club"}, headers=headers)).json()
        event = await http.post(
            "/events",
            json={
                "name": "Road America 8 Hour",
                "startDate": "2025-04-26T08:00:00Z",
                "endDate": "2025-04-26T18:00:00Z",
                "organizationId": org["id"],
            },
            headers=headers,
        )
        assert event.status_code == 201, event.text
    event_id = event.json()["id"]
    args = ["clients", "create", "relay", "--role", "official", "--event", str(event_id), "--json"]
    made = json.loads(await cli(server.env, *args))
    return made["client_id"], made["client_secret"], event_id, headers


class Relay(Process):
    """``trackside relay`` as started at the track, secret in the environment."""

    def __init__(self, env: dict[str, str], secret: str, args: list[str], log: Path) -> None:
        super().__init__({**env, "TRACKSIDE_RELAY_CLIENT_SECRET": secret}, log)
        self.args = args

    async def start(self) -> None:
        await self.spawn("relay", *self.args)


class LiveFeed:
    """A timing system's TCP feed: what is played goes to the connection of the moment, in
    random chunks; like RMonitor, nothing is sent again to a client that reconnects."""

    def __init__(self, seed: int = 11) -> None:
        self.connections = 0
        self._writer: asyncio.StreamWriter | None = None
        self._server: asyncio.Server | None = None
        self._rng = random.Random(seed)

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self._server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writer = writer
        await reader.read()  # until the client goes

    async def play(self, data: bytes) -> None:
        assert self._writer is not None, "no client connected"
        for piece in chunks(data, self._rng):
            self._writer.write(piece)
            await self._writer.drain()
            await asyncio.sleep(0)

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        if self._writer is not None:
            self._writer.close()
        await self._server.wait_closed()
