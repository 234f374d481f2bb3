"""The judge, tracking and telemetry paths of a cluster: what is done through node A reaches
sockets served by node B (through Redis), and telemetry written through both nodes into one
InfluxDB is all seen through either. The last test stops Redis (and starts it again)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from tests.cluster.nodes import PASSWORD, Cluster, PrivateRedis, own_database
from tests.cluster.seed import seed_event
from tests.telemetry.influxd import running_influxd

TIMEOUT = 10.0
T0 = 1_733_346_000_000_000_000  # 2024-12-04T21:00:00Z in ns


@pytest.fixture(scope="module")
def redis() -> Iterator[PrivateRedis]:
    redis = PrivateRedis()  # topics of our own, whatever else runs on this machine
    redis.start()
    try:
        yield redis
    finally:
        redis.stop()


@pytest.fixture(scope="module")
def cluster(redis: PrivateRedis) -> Iterator[Cluster]:
    """Two nodes on their own database and Redis, writing telemetry to one influxd."""
    with contextlib.ExitStack() as stack:
        database = stack.enter_context(own_database())
        influx = stack.enter_context(running_influxd())
        root = stack.enter_context(tempfile.TemporaryDirectory(prefix="trackside-cluster-"))
        env = {
            "TRACKSIDE_TELEMETRY_URL": f"{influx.replace('http://', 'influxdb://')}/cluster",
            "TRACKSIDE_TRACKING_MAP_THROTTLE_S": "0",
        }
        nodes = Cluster(database, redis.url, 2, Path(root), env)
        stack.callback(nodes.stop)
        nodes.start()
        yield nodes


@pytest.fixture(scope="module")
def seeded(cluster: Cluster) -> tuple[dict[str, str], int]:
    return seed_event(cluster)


def person(cluster: Cluster, name: str) -> str:
    """A new account (CLI); its id."""
    cluster.cli("users", "create", name, "--email", f"{name}@example.org",
                "--password", PASSWORD)  # fmt: skip
    login = httpx.post(
        f"{cluster.nodes[0].url}/auth/login", json={"username": name, "password": PASSWORD}
    )
    me = httpx.get(
        f"{cluster.nodes[0].url}/auth/me",
        headers={"Authorization": f"Bearer {login.json()['access']}"},
    )
    return str(me.json()["id"])


def made(response: httpx.Response, status: int = 201) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


async def receive(ws: websockets.ClientConnection) -> dict[str, Any]:
    return json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))


def judged(
    cluster: Cluster, admin: dict[str, str], event: int, name: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A competition with one team, judged by a new account ``name``: both as answered."""
    url = cluster.nodes[0].url
    person(cluster, name)
    competition = made(
        httpx.post(
            f"{url}/events/{event}/competitions",
            json={"name": f"5K {name}", "scheduledStart": "2025-11-11T12:00:00Z"},
            headers=admin,
        )
    )
    judge = made(httpx.post(f"{url}/events/{event}/judges", json={"username": name}, headers=admin))
    made(
        httpx.post(
            f"{url}/events/{event}/competitions/{competition['id']}/teams",
            json={"name": f"Equipo {name}", "number": "1", "judgeId": judge["id"]},
            headers=admin,
        )
    )
    return competition, judge


async def test_a_start_on_node_a_reaches_a_judge_on_node_b(
    cluster: Cluster, seeded: tuple[dict[str, str], int]
) -> None:
    admin, event = seeded
    a, b = cluster.nodes
    competition, judge = judged(cluster, admin, event, "ana")
    token = made(
        httpx.post(f"{b.url}/api/token/", json={"username": "ana", "password": PASSWORD}), 200
    )["access"]
    async with websockets.connect(f"{b.ws_url}/ws/juez/{judge['id']}/?token={token}") as ws:
        hello = await receive(ws)
        assert hello["tipo"] == "conexion_establecida"
        assert hello["competencia"]["en_curso"] is False
        start = f"{a.url}/events/{event}/competitions/{competition['id']}/start"
        assert made(httpx.post(start, headers=admin), 200)["state"] == "running"
        started = await receive(ws)
        assert started["type"] == "carrera.iniciada"
        assert started["data"]["competencia_id"] == competition["id"]


async def test_fixes_posted_to_node_a_move_the_map_served_by_node_b(
    cluster: Cluster, seeded: tuple[dict[str, str], int]
) -> None:
    admin, event = seeded
    a, b = cluster.nodes
    person(cluster, "rider")
    made(
        httpx.post(
            f"{a.url}/events/{event}/tracking/participants",
            json={"username": "rider"},
            headers=admin,
        )
    )
    rider = made(
        httpx.post(f"{a.url}/auth/login", json={"username": "rider", "password": PASSWORD}), 200
    )["access"]
    map_url = f"{b.ws_url}/ws/events/{event}/positions?access_token={admin['Authorization'][7:]}"
    async with websockets.connect(map_url) as ws:
        snapshot = await receive(ws)
        assert snapshot["type"] == "snapshot"
        for minute, (lat, lon) in enumerate([(43.79, -87.99), (43.80, -87.98)]):
            fix = {"latitude": lat, "longitude": lon, "timestamp": f"2025-04-26T10:0{minute}:00Z"}
            posted = httpx.post(
                f"{a.url}/api/location-reports/",
                json=fix,
                headers={"Authorization": f"Bearer {rider}"},
            )
            made(posted)
            update = await receive(ws)
            assert update["type"] == "positions"
            (position,) = update["positions"]
            assert (position["name"], position["lat"], position["lon"]) == ("rider", lat, lon)


async def test_telemetry_written_through_both_nodes_is_read_through_either(
    cluster: Cluster, seeded: tuple[dict[str, str], int]
) -> None:
    admin, _ = seeded
    a, b = cluster.nodes
    logger = person(cluster, "logger")
    made(
        httpx.put(
            f"{a.url}/users/{logger}/telemetry-level", json={"telemetryLevel": 5}, headers=admin
        ),
        200,
    )
    token = made(
        httpx.post(f"{b.url}/auth/login", json={"username": "logger", "password": PASSWORD}), 200
    )["access"]
    headers = {"Authorization": f"Bearer {token}"}

    async def write(http: httpx.AsyncClient, node_url: str, first: int) -> None:
        # Both nodes write a bucket neither has seen, at once: one makes it, both store.
        lines = [f"car,car=7 speed={i}i {T0 + i * 1_000_000}" for i in range(first, 40, 2)]
        written = await http.post(
            f"{node_url}/api/v2/write",
            params={"bucket": "race", "precision": "ns"},
            content="\n".join(lines),
            headers=headers,
        )
        assert written.status_code == 204, written.text

    async with httpx.AsyncClient(timeout=30) as http:
        await asyncio.gather(write(http, a.url, 0), write(http, b.url, 1))
    for node in (a, b):
        answer = httpx.get(
            f"{node.url}/api/telemetry/query",
            params={
                "bucket": "race",
                "measurement": "car",
                "start": "2024-12-04T00:00:00Z",
                "stop": "2024-12-05T00:00:00Z",
            },
            headers=headers,
        )
        (series,) = made(answer, 200)["series"]
        assert series["value"] == list(range(40)), node.name


async def test_with_redis_down_a_stop_is_still_recorded(
    cluster: Cluster, seeded: tuple[dict[str, str], int], redis: PrivateRedis
) -> None:
    """The log in PostgreSQL is the truth: a push to the judges that cannot go out is not the
    organizer's error (judges are told the state when their socket reconnects)."""
    admin, event = seeded
    a, b = cluster.nodes
    competition, _ = judged(cluster, admin, event, "beto")
    path = f"/events/{event}/competitions/{competition['id']}"
    assert made(httpx.post(f"{a.url}{path}/start", headers=admin), 200)["state"] == "running"
    redis.stop()
    try:
        stopped = httpx.post(f"{a.url}{path}/stop", headers=admin)
        assert stopped.status_code == 200, a.log()[-3000:]
        assert stopped.json()["state"] == "stopped"
        assert made(httpx.get(f"{b.url}{path}", headers=admin), 200)["state"] == "stopped"
    finally:
        redis.start()
