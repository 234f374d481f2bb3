"""The server polls a race-control log URL: a real HTTP server serves a CSV edited between polls."""

from __future__ import annotations

import asyncio
import functools
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.api.world import World
from tests.databases import test_settings
from trackside.api.app import create_app
from trackside.config import Settings
from trackside.controllog import source as controllog_config

LOG = "Time,Car,Description,Penalty\n10:00:00,7,Off track,Warning\n10:05:00,7,Contact,\n"


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


class LogHost:
    """Race control's web server: serves a folder over HTTP until stopped."""

    def __init__(self, folder: Path, handler_class: type[Quiet] = Quiet) -> None:
        handler = functools.partial(handler_class, directory=str(folder))
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


@pytest.fixture
def settings(tmp_path: Path, database_url: str | None) -> Settings:
    """Race control's host here is on loopback, which only an operator may allow."""
    return test_settings(tmp_path / "data", database_url, fetch_allow_private=True)


@pytest.fixture
def host(tmp_path: Path) -> Iterator[tuple[LogHost, Path]]:
    folder = tmp_path / "www"
    folder.mkdir()
    served = LogHost(folder)
    yield served, folder / "log.csv"
    served.stop()


async def until(check: Callable[[], Awaitable[bool]], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


async def test_polled_log_follows_edits_and_survives_outages(
    world: World, host: tuple[LogHost, Path]
) -> None:
    server, log_file = host
    event = world.ids["public"]
    official = world.auth("official")
    source_path = f"/events/{event}/control-log/source"

    async def log() -> dict:
        return (await world.client.get(f"/events/{event}/control-log")).json()

    async def source() -> dict:
        return (await world.client.get(source_path, headers=official)).json()

    log_file.write_text(LOG)
    url = f"http://127.0.0.1:{server.port}/log.csv"
    put = await world.client.put(source_path, json={"url": url, "intervalS": 0.5}, headers=official)
    assert put.status_code == 200, put.text

    async def two_entries() -> bool:
        return len((await log())["entries"]) == 2

    await until(two_entries)
    assert (await log())["cars"][0]["warnings"] == 1
    first = await source()
    assert first["lastStatus"].startswith("ok: 2 rows") and first["lastError"] is None

    # Race control gives the contact a drive-through: the next poll appends a revision.
    log_file.write_text(LOG.replace("Contact,\n", "Contact,Drive through\n"))

    async def revised() -> bool:
        contact = (await log())["entries"][1]
        return contact["revision"] == 2

    await until(revised)
    contact = (await log())["entries"][1]
    assert contact["outcome"]["kind"] == "black_flag" and len(contact["superseded"]) == 1
    live = (await world.client.get(f"/events/{event}/live")).json()
    assert live["sessions"] == []  # no session yet: the entries wait for the first one
    records = (await log())["records"]

    # The file is gone (404), then the host is down: recorded, polling goes on, nothing
    # is withdrawn from the log.
    log_file.unlink()

    def status_is(text: str) -> Callable[[], Awaitable[bool]]:
        async def check() -> bool:
            return (await source())["lastStatus"] == text

        return check

    await until(status_is("HTTP 404"))
    server.stop()
    await until(status_is("unreachable"))
    assert "ConnectError" in (await source())["lastError"]
    assert (await log())["records"] == records
    polls = (await source())["polls"]

    # A server started on the same database polls the stored source again.
    again = create_app(world.platform.settings)
    async with again.router.lifespan_context(again):
        assert again.state.platform.control_log_poller.polling(event)

    # Uploads only: polling stops.
    stop = await world.client.put(source_path, json={"url": None}, headers=official)
    assert stop.status_code == 200
    assert not world.platform.control_log_poller.polling(event)
    assert (await source())["polls"] >= polls


async def test_a_poll_of_a_deleted_event_ends_its_task(
    world: World, host: tuple[LogHost, Path]
) -> None:
    server, log_file = host
    log_file.write_text(LOG)
    event = world.ids["public"]
    url = f"http://127.0.0.1:{server.port}/log.csv"
    put = await world.client.put(
        f"/events/{event}/control-log/source",
        json={"url": url, "intervalS": 0.5},
        headers=world.auth("official"),
    )
    assert put.status_code == 200
    poller = world.platform.control_log_poller
    assert poller.polling(event)
    deleted = await world.client.delete(f"/events/{event}", headers=world.auth("admin"))
    assert deleted.status_code == 204

    async def stopped() -> bool:
        return not poller.polling(event)

    await until(stopped)
    async with httpx.AsyncClient() as client:  # the host was polled, and is still up
        assert (await client.get(url)).status_code == 200


class TestWithoutPrivateFetches:
    @pytest.fixture
    def settings(self, tmp_path: Path, database_url: str | None) -> Settings:
        return test_settings(tmp_path / "data", database_url)

    async def test_our_network_is_refused_at_put_and_at_every_poll(
        self, world: World, host: tuple[LogHost, Path]
    ) -> None:
        server, log_file = host
        log_file.write_text(LOG)
        event = world.ids["public"]
        path = f"/events/{event}/control-log/source"
        for url in (
            "http://169.254.169.254/latest/meta-data/",
            f"http://localhost:{server.port}/log.csv",
            "http://10.0.0.7/log.csv",
        ):
            refused = await world.client.put(
                path, json={"url": url}, headers=world.auth("official")
            )
            assert refused.status_code == 422, refused.text
            assert refused.json()["errors"][0]["field"] == "url"
        # Stored before the rule (or DNS changed since): every poll checks again.
        async with world.platform.db_factory() as db:
            spec = controllog_config.SourceSpec(
                url=f"http://127.0.0.1:{server.port}/log.csv", interval_s=30.0
            )
            await controllog_config.put(db, event, spec)
        await world.platform.control_log_poller.poll(event)
        source = (await world.client.get(path, headers=world.auth("official"))).json()
        assert source["lastStatus"] == "refused", source
        assert "loopback" in source["lastError"]
        assert (await world.client.get(f"/events/{event}/control-log")).json()["entries"] == []
