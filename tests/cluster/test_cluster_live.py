"""Three real server nodes on one PostgreSQL and one Redis, a relay posting a real capture
round-robin across them, viewers on every node: one processor leads the event, every viewer
ends on the board ``trackside replay`` computes, through a Redis outage and the death
(SIGKILL) of the leading node, and nothing the relay was acknowledged for is lost.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import websockets

from tests.cluster.nodes import Cluster, Node, PrivateRedis
from tests.conftest import RMONITOR
from tests.events.livefeed import capture_lines
from trackside.live.patch import apply_patch

CAPTURE = RMONITOR / "barber-2025-03-01-finish.log"
BATCH = 20
NODE_SETTINGS = {"TRACKSIDE_PROCESSOR_IDLE_TIMEOUT_S": "120"}


class Viewer:
    """A ``/ws/events/{id}`` client doing what the board does, keeping every patch it got."""

    def __init__(self, node: Node, event: int) -> None:
        self.node = node
        self.event = event
        self.data: dict[str, Any] | None = None
        self.epoch: int | None = None
        self.epochs: list[int] = []
        self.patches: dict[tuple[int, int], str] = {}
        self.gaps = 0
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.ws = await websockets.connect(f"{self.node.ws_url}/ws/events/{self.event}")
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        try:
            async for text in self.ws:
                assert isinstance(text, str)
                message = orjson.loads(text)
                if message["type"] == "snapshot":
                    self.epoch, self.data = message["epoch"], message["data"]
                    if not self.epochs or self.epochs[-1] != self.epoch:
                        self.epochs.append(self.epoch)
                elif message["type"] == "patch":
                    self.patches[(message["epoch"], message["version"])] = text
                    assert self.data is not None
                    if (
                        message["epoch"] == self.epoch
                        and message["version"] <= self.data["version"]
                    ):
                        continue
                    if (
                        message["epoch"] != self.epoch
                        or message["version"] != self.data["version"] + 1
                    ):
                        self.gaps += 1
                        await self.ws.send('{"type": "resync"}')
                        continue
                    self.data = apply_patch(self.data, message)
        except websockets.ConnectionClosed:
            return

    @property
    def version(self) -> tuple[int | None, int | None]:
        return self.epoch, None if self.data is None else self.data["version"]

    async def close(self) -> None:
        await self.ws.close()
        if self.task is not None:
            await self.task


def _replayed(tmp: Path) -> list[dict[str, Any]]:
    out = tmp / "replay.json"
    subprocess.run(
        [sys.executable, "-m", "trackside.cli", "replay", str(CAPTURE), "--quiet",
         "--output", str(out)],
        check=True,
        capture_output=True,
        timeout=120,
    )  # fmt: skip
    sessions = json.loads(out.read_bytes())["sessions"]
    for session in sessions:
        del session["records"]
    return sessions


def _differences(board: list[dict[str, Any]], expected: list[dict[str, Any]]) -> list[str]:
    """Where a board differs from the replay (for the failure message)."""
    out = [f"{len(board)} sessions, replay {len(expected)}"] if len(board) != len(expected) else []
    for got, want in zip(board, expected, strict=False):
        for key in sorted(set(got) | set(want)):
            if key != "cars" and got.get(key) != want.get(key):
                out.append(f"{key}: {got.get(key)!r} != {want.get(key)!r}")
        cars = {c["registration"]: c for c in got.get("cars", [])}
        for car in want.get("cars", []):
            mine = cars.get(car["registration"], {})
            for key in car:
                if mine.get(key) != car[key]:
                    out.append(
                        f"car {car['registration']} {key}: {mine.get(key)!r} != {car[key]!r}"
                    )
    return out[:20]


def _board(data: dict[str, Any]) -> list[dict[str, Any]]:
    sessions = [dict(session) for session in data["sessions"]]
    for session in sessions:
        session.pop("classification", None)
    return sessions


class Race:
    """The event, its relay's token and the capture to post, batch by batch."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        admin = cluster.admin_token()
        self.auth = {"Authorization": f"Bearer {admin}"}
        http = httpx.Client(base_url=cluster.nodes[0].url, headers=self.auth, timeout=30)
        org = http.post("/organization", json={"name": "Cluster Club"}).json()["id"]
        self.event = http.post(
            "/events",
            json={
                "name": "Barber finish",
                "startDate": "2025-03-01T08:00:00Z",
                "endDate": "2025-03-01T18:00:00Z",
                "organizationId": org,
            },
        ).json()["id"]
        client = json.loads(
            cluster.cli(
                "clients",
                "create",
                "relay",
                "--role",
                "official",
                "--event",
                str(self.event),
                "--json",
            )
        )
        token = http.post(
            "/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": client["client_id"],
                "client_secret": client["client_secret"],
            },
        )
        assert token.status_code == 200, token.text
        self.relay = {"Authorization": f"Bearer {token.json()['access_token']}"}
        lines = capture_lines(CAPTURE)
        self.batches = [lines[i : i + BATCH] for i in range(0, len(lines), BATCH)]
        self.sent = 0
        self.acked = 0
        self.turn = 0

    async def post(self, http: httpx.AsyncClient, count: int) -> None:
        """Post the next ``count`` batches round-robin over the nodes that are up; a batch
        refused by a node (it died) goes to the next one, as a relay with a node list does."""
        for _ in range(count):
            if self.sent >= len(self.batches):
                return
            chunk = self.batches[self.sent]
            first = self.sent * BATCH + 1
            body = {
                "source": "rmonitor",
                "records": [
                    {"seq": first + i, "received_at": at, "type": "rmonitor", "data": line}
                    for i, (at, line) in enumerate(chunk)
                ],
            }
            for _attempt in range(len(self.cluster.nodes) * 3):
                node = self.cluster.nodes[self.turn % len(self.cluster.nodes)]
                self.turn += 1
                if not node.alive:
                    continue
                try:
                    reply = await http.post(
                        f"{node.url}/relay/events/{self.event}/records",
                        json=body,
                        headers=self.relay,
                    )
                except httpx.TransportError:
                    continue
                assert reply.status_code == 200, (node.name, reply.text, node.log()[-3000:])
                self.acked = reply.json()["acked_seq"]
                break
            else:
                raise AssertionError("no node took the batch")
            self.sent += 1

    @property
    def done(self) -> bool:
        return self.sent >= len(self.batches)

    @property
    def records(self) -> int:
        return sum(len(batch) for batch in self.batches)


async def _settled(viewers: list[Viewer], nodes: list[Node], race: Race) -> dict[str, Any]:
    """Wait until the leader has scored every record, and every node's ``/live`` and every
    viewer show the same epoch and version."""
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient(timeout=10) as http:
        while True:
            diagnostics = [await _diagnostics(n, race) for n in nodes]
            scored = {d["records"] for d in diagnostics}
            leaders = {(d["processor"] or {}).get("node") for d in diagnostics}
            lives = [(await http.get(f"{n.url}/events/{race.event}/live")).json() for n in nodes]
            versions = {live["version"] for live in lives}
            seen = {viewer.version for viewer in viewers}
            if (
                scored == {race.records}
                and len(leaders) == 1
                and leaders <= {n.name for n in nodes}
                and len(versions) == 1
                and len(seen) == 1
                and next(iter(seen))[1] in versions
            ):
                await asyncio.sleep(0.5)  # nothing more arrives: the last patch was the last
                if {viewer.version for viewer in viewers} == seen:
                    return lives[0]
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"not settled: scored {scored} of {race.records}, led by {leaders}, "
                    f"nodes at {versions}, "
                    f"viewers at {seen}"
                )
            await asyncio.sleep(0.2)


async def _diagnostics(node: Node, race: Race) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=10) as http:
        reply = await http.get(f"{node.url}/events/{race.event}/diagnostics", headers=race.auth)
        assert reply.status_code == 200, reply.text
        return reply.json()


def _same_patches(viewers: list[Viewer]) -> None:
    """Wherever two viewers got a patch of the same epoch and version, it is the same bytes."""
    seen: dict[tuple[int, int], str] = {}
    for viewer in viewers:
        for key, text in viewer.patches.items():
            assert seen.setdefault(key, text) == text, f"patch {key} differs on {viewer.node.name}"


@pytest.fixture
def cluster(cluster_database: str, private_redis: PrivateRedis, cluster_root: Path) -> Any:
    nodes = Cluster(cluster_database, private_redis.url, 3, cluster_root, NODE_SETTINGS)
    try:
        nodes.start()
        yield nodes
    finally:
        nodes.stop()


async def test_three_nodes_one_leader_every_viewer_ends_on_the_replay(
    cluster: Cluster, tmp_path: Path
) -> None:
    race = Race(cluster)
    viewers = [Viewer(node, race.event) for node in cluster.nodes for _ in range(2)]
    for viewer in viewers:
        await viewer.start()
    async with httpx.AsyncClient(timeout=30) as http:
        while not race.done:
            await race.post(http, 5)
    live = await _settled(viewers, cluster.nodes, race)
    expected = _replayed(tmp_path)
    try:
        for viewer in viewers:
            assert viewer.data is not None
            assert _board(viewer.data) == expected, viewer.node.name
        assert _board(live) == expected
        # One leader, one epoch: every viewer got the same patches, none out of order.
        diagnostics = [await _diagnostics(node, race) for node in cluster.nodes]
        leaders = {d["processor"]["node"] for d in diagnostics}
        assert len(leaders) == 1 and leaders <= {n.name for n in cluster.nodes}
        assert {d["epoch"] for d in diagnostics} == {diagnostics[0]["processor"]["epoch"]}
        assert all(len(viewer.epochs) == 1 for viewer in viewers)
        _same_patches(viewers)
        assert sum(viewer.gaps for viewer in viewers) == 0
        assert diagnostics[0]["logLength"] == race.records == race.acked
    finally:
        for viewer in viewers:
            await viewer.close()
        print(cluster.logs()[-3000:])


async def test_a_redis_outage_and_the_leaders_death_lose_nothing(
    cluster: Cluster, private_redis: PrivateRedis, tmp_path: Path
) -> None:
    race = Race(cluster)
    viewers = [Viewer(node, race.event) for node in cluster.nodes for _ in range(2)]
    for viewer in viewers:
        await viewer.start()
    third = len(race.batches) // 3
    async with httpx.AsyncClient(timeout=30) as http:
        await race.post(http, third)
        # Redis down: every batch is still stored and acknowledged (PostgreSQL is the truth).
        private_redis.stop()
        outage_ends = time.monotonic() + 10
        while time.monotonic() < outage_ends:
            await race.post(http, 1)
            await asyncio.sleep(0.5)
        private_redis.start()
        await race.post(http, 5)
        # The leader dies mid-race; another node takes over under a new epoch.
        leader = (await _diagnostics(cluster.nodes[0], race))["processor"]
        dead = next(node for node in cluster.nodes if node.name == leader["node"])
        dead.kill()
        while not race.done:
            await race.post(http, 5)
    alive = [node for node in cluster.nodes if node.alive]
    watching = [viewer for viewer in viewers if viewer.node.alive]
    live = await _settled(watching, alive, race)
    expected = _replayed(tmp_path)
    try:
        for viewer in watching:
            assert viewer.data is not None
            board = _board(viewer.data)
            assert board == expected, (viewer.node.name, _differences(board, expected))
            assert viewer.epoch != leader["epoch"]  # resynced to the new leader's epoch
        assert _board(live) == expected, _differences(_board(live), expected)
        now = await _diagnostics(alive[0], race)
        assert now["processor"]["node"] != dead.name
        assert now["processor"]["epoch"] > leader["epoch"]
        assert now["logLength"] == race.records == race.acked
        _same_patches(watching)
    finally:
        for viewer in viewers:
            await viewer.close()
        print(cluster.logs()[-3000:])
