"""A relay gone silent: the processor stops, the event is not live, results are kept.

Its own module, so the short idle timeout below does not stop other tests' processors while
they pause (a viewer would be left on a stopped processor).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import orjson
import pytest
import websockets
from fastapi import FastAPI

from tests.api.world import World
from tests.events.livefeed import capture_lines, post_lines, serving
from tests.events.test_live import RACE_DAY
from trackside.config import Settings
from trackside.events.hub import Follower, Hub
from trackside.events.manager import ProcessorManager
from trackside.events.racelog import EventLive
from trackside.live.compact import decode_status
from trackside.live.patch import apply_patch
from trackside.platform import Platform


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"processor_idle_timeout_s": 0.3})


async def test_silent_relay_stops_the_processor_and_keeps_results(world: World) -> None:
    event = world.ids["public"]
    platform = world.platform
    await post_lines(world.client, world.tokens["client_relay"], event, capture_lines(*RACE_DAY))
    assert platform.processors.running(event) is not None
    for _ in range(100):
        if platform.processors.running(event) is None:
            break
        await asyncio.sleep(0.05)
    assert platform.processors.running(event) is None
    sessions = (
        await world.client.get(f"/events/{event}/sessions", headers=world.auth("viewer"))
    ).json()
    race = next(s for s in sessions if s["name"] == "Saturday 8 Hour")
    kept = (await world.client.get(f"/events/{event}/sessions/{race['id']}/results")).json()
    assert kept["cars"][1]["gap_ms"] == 787
    async with platform.db_factory() as db:
        assert (await db.get(EventLive, event)).live is False


class _Board:
    """A WebSocket viewer that does what the board does: snapshot, patches of its epoch in
    order, and a resync for anything else."""

    def __init__(self, ws: websockets.ClientConnection) -> None:
        self.ws = ws
        self.epoch: int | None = None
        self.data: dict | None = None
        self.snapshots = 0
        self.epochs: set[int] = set()

    async def run(self) -> None:
        async for text in self.ws:
            assert isinstance(text, str)  # JSON in text frames
            message = orjson.loads(text)
            if message["type"] == "snapshot":
                self.epoch, self.data = message["epoch"], message["data"]
                self.snapshots += 1
                self.epochs.add(message["epoch"])
            elif message["type"] == "patch":
                assert self.data is not None
                if message["epoch"] == self.epoch and message["version"] <= self.data["version"]:
                    continue
                if message["epoch"] != self.epoch or message["version"] != self.data["version"] + 1:
                    await self.ws.send('{"type": "resync"}')
                    continue
                self.data = apply_patch(self.data, message)


async def _fresh(host: str, event: int) -> dict:
    async with websockets.connect(f"ws://{host}/ws/events/{event}") as ws:
        return orjson.loads(await asyncio.wait_for(ws.recv(), 10))


async def _stopped(platform: Platform, event: int) -> None:
    for _ in range(200):
        if platform.processors.running(event) is None:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the processor did not stop")


async def test_viewers_through_an_idle_stop_and_a_restart_end_on_a_fresh_snapshot(
    app: FastAPI, world: World
) -> None:
    event = world.ids["public"]
    platform = world.platform
    relay = world.tokens["client_relay"]
    lines = capture_lines(*RACE_DAY)[:2400]
    await post_lines(world.client, relay, event, lines[:800])
    async with serving(app) as host:
        sockets = [await websockets.connect(f"ws://{host}/ws/events/{event}") for _ in range(3)]
        boards = [_Board(ws) for ws in sockets]
        tasks = [asyncio.create_task(board.run()) for board in boards]
        try:
            for _ in range(200):
                if all(board.epoch is not None for board in boards):
                    break
                await asyncio.sleep(0.05)
            first = max(board.epoch or 0 for board in boards)
            await _stopped(platform, event)  # the relay went silent: an idle stop
            platform.processors.idle_timeout_s = 30  # no other stop while the relay posts
            # The relay comes back: a new processor, versions from 0 again, another epoch.
            await post_lines(world.client, relay, event, lines[800:1600], first_seq=801)
            second = platform.processors.running(event)
            assert second is not None and second.epoch > first
            await post_lines(world.client, relay, event, lines[1600:], batch=40, first_seq=1601)
            fresh = await _fresh(host, event)
            assert fresh["epoch"] == second.epoch
            for _ in range(200):
                if all(b.epoch == fresh["epoch"] and b.data == fresh["data"] for b in boards):
                    break
                await asyncio.sleep(0.05)
            for board in boards:
                assert board.epoch == fresh["epoch"]
                assert board.data == fresh["data"]
                assert {first, second.epoch} <= board.epochs
                assert board.snapshots >= 3  # on connect, at the stop, on the new epoch
        finally:
            for ws in sockets:
                await ws.close()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    async with platform.db_factory() as db:
        assert (await db.get(EventLive, event)).live is True


async def test_a_live_flag_left_by_a_dead_server_is_reconciled_on_start(
    world: World,
) -> None:
    event = world.ids["public"]
    platform = world.platform
    await post_lines(
        world.client, world.tokens["client_relay"], event, capture_lines(*RACE_DAY)[:50]
    )
    await platform.processors.close()  # as if the server had died: the flag stays
    async with platform.db_factory() as db:
        row = await db.get(EventLive, event)
        row.live = True
        row.last_record_at = datetime.now(UTC) - timedelta(seconds=5)  # > 0.3 s idle timeout
        await db.commit()
    manager = ProcessorManager(platform.db_factory, platform.broker, idle_timeout_s=0.3)
    await manager.reconcile()
    assert manager.running(event) is None
    async with platform.db_factory() as db:
        assert (await db.get(EventLive, event)).live is False

    # A record more recent than the timeout: the processor runs again until the relay has been
    # silent long enough, then the event is not live.
    async with platform.db_factory() as db:
        row = await db.get(EventLive, event)
        row.live = True
        row.last_record_at = datetime.now(UTC)
        await db.commit()
    manager = ProcessorManager(platform.db_factory, platform.broker, idle_timeout_s=0.3)
    try:
        await manager.reconcile()
        assert manager.running(event) is not None
        await _stopped_in(manager, event)
        for _ in range(100):  # stopping keeps the results, then clears the flag
            async with platform.db_factory() as db:
                if not (await db.get(EventLive, event)).live:
                    break
            await asyncio.sleep(0.05)
        async with platform.db_factory() as db:
            assert (await db.get(EventLive, event)).live is False
    finally:
        await manager.close()


async def _stopped_in(manager: ProcessorManager, event: int) -> None:
    for _ in range(200):
        if manager.running(event) is None:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the processor did not stop")


async def _payloads(follower: Follower, until: float = 0.5) -> list[dict]:
    """What the follower was sent until nothing came for ``until`` seconds, decoded."""
    payloads = []
    while (item := await follower.next(until)) is not None:
        text, _ = item
        assert text is not None
        message = orjson.loads(text.rstrip("\x1e"))
        payloads.append(decode_status(message["arguments"][0]))
    return payloads


async def test_hub_followers_get_full_payloads_of_each_epoch(world: World) -> None:
    event = world.ids["public"]
    platform = world.platform
    relay = world.tokens["client_relay"]
    lines = capture_lines(*RACE_DAY)[:1600]
    await post_lines(world.client, relay, event, lines[:800])
    hub = Hub(platform)
    follower = Follower(limit=10_000)
    await hub.subscribe(follower, event, None)
    try:
        first = await _payloads(follower, until=0.1)
        assert first and first[0]["cps"] and first[0]["ep"] > 0
        await _stopped(platform, event)
        platform.processors.idle_timeout_s = 30
        await post_lines(world.client, relay, event, lines[800:], batch=100, first_seq=801)
        later = await _payloads(follower)
        second = platform.processors.running(event)
        assert second is not None
        epochs = [p["ep"] for p in later]
        assert second.epoch in epochs and all(ep in (first[0]["ep"], second.epoch) for ep in epochs)
        new_run = [p for p in later if p["ep"] == second.epoch]
        assert new_run[0]["cps"], "a new epoch starts with a full payload"
    finally:
        hub.leave(follower)


async def test_the_live_socket_negotiates_permessage_deflate(app: FastAPI, world: World) -> None:
    event = world.ids["public"]
    async with serving(app) as host:
        async with websockets.connect(f"ws://{host}/ws/events/{event}") as ws:  # offers it
            first = await asyncio.wait_for(ws.recv(), 10)
            assert isinstance(first, str) and orjson.loads(first)["type"] == "snapshot"
            assert [e.name for e in ws.protocol.extensions] == ["permessage-deflate"]
        async with websockets.connect(f"ws://{host}/ws/events/{event}", compression=None) as ws:
            assert orjson.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "snapshot"
            assert ws.protocol.extensions == []
