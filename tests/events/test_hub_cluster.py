"""The status hub behind a load balancer without sticky sessions: two real nodes on one
PostgreSQL and Redis, and a balancer (tests/cluster/balancer.py) that sends every negotiate to
node A and every socket to node B. Both official clients (``@microsoft/signalr`` with a v1
negotiate, ``signalrcore`` with a v0 one) must connect through it; the connection token A made
is all B gets. The race is relayed to node A; the clients follow it on node B.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.cluster.balancer import Balancer, balancing
from tests.cluster.nodes import Cluster
from tests.conftest import capture
from tests.events.hubclients import (
    WAIT_S,
    Board,
    NodeHubClient,
    PythonHubClient,
    expected_board,
    node_client,
)
from tests.events.livefeed import capture_lines, post_lines
from trackside.events.hub import race_day
from trackside.live.compact import EventInfo

RACE = [
    capture("road-america-2025-04-26-entries.log"),
    capture("road-america-2025-04-26-grid.log"),
    capture("road-america-2025-04-26-race-start.log"),
]


@pytest.fixture
def cluster(cluster_database: str, redis_url: str, cluster_root: Path) -> Iterator[Cluster]:
    nodes = Cluster(cluster_database, redis_url, 2, cluster_root)
    nodes.start()
    try:
        yield nodes
    finally:
        nodes.stop()


class Race:
    """An event on the cluster whose capture was relayed to node A, and A's view of it."""

    def __init__(self, cluster: Cluster, event: dict[str, Any], admin: str) -> None:
        self.cluster = cluster
        self.event_id: int = event["id"]
        self.admin = admin
        start, end = (datetime.fromisoformat(event[k]) for k in ("startDate", "endDate"))
        self.info = EventInfo(self.event_id, event["name"], race_day(start, end, _today()))

    def live_on(self, node: int) -> dict[str, Any]:
        url = f"{self.cluster.nodes[node].url}/events/{self.event_id}/live"
        answer = httpx.get(url, timeout=30)
        answer.raise_for_status()
        return answer.json()


def _today() -> date:
    return datetime.now(UTC).date()


async def _relay_race_to(cluster: Cluster, node: int) -> Race:
    admin = await asyncio.to_thread(cluster.admin_token)
    auth = {"Authorization": f"Bearer {admin}"}
    now = datetime.now(UTC)
    async with httpx.AsyncClient(base_url=cluster.nodes[node].url, timeout=30) as api:
        org = await api.post("/organization", json={"name": "Cluster Club"}, headers=auth)
        assert org.status_code == 201, org.text
        body = {
            "name": "Cluster Day",
            "startDate": (now - timedelta(hours=1)).isoformat(),
            "endDate": (now + timedelta(hours=8)).isoformat(),
            "organizationId": org.json()["id"],
        }
        made = await api.post("/events", json=body, headers=auth)
        assert made.status_code == 201, made.text
        race = Race(cluster, made.json(), admin)
        await post_lines(api, admin, race.event_id, capture_lines(*RACE))
    return race


@pytest.fixture
async def balancer(cluster: Cluster) -> AsyncIterator[Balancer]:
    """Negotiate to node A, everything else (the sockets) to node B."""
    a, b = (node.url for node in cluster.nodes)

    def pick(method: str, target: str) -> str:
        return a if target.split("?")[0].endswith("/negotiate") else b

    async with balancing(pick) as running:
        yield running


def _check_split(balancer: Balancer, cluster: Cluster, sockets: int) -> None:
    """Negotiate went to A and only there; the sockets to B."""
    a, b = (node.url for node in cluster.nodes)
    negotiated = [r for r in balancer.routed if r[1].split("?")[0].endswith("/negotiate")]
    opened = [r for r in balancer.routed if r[1].startswith("/event-status?id=")]
    assert negotiated and {backend for *_, backend in negotiated} == {a}, balancer.routed
    assert len(opened) == sockets and {backend for *_, backend in opened} == {b}
    assert len(negotiated) + len(opened) == len(balancer.routed), balancer.routed


async def _started(client: NodeHubClient) -> None:
    """Started, or a failure that says why (a socket refused with 404: an unknown token)."""
    await client.send(op="start")
    answer = await client.next()
    assert answer["kind"] == "started", answer


async def _node_client_follows(url: str, event_id: int) -> NodeHubClient:
    """@microsoft/signalr: started, subscribed, its first full payload received."""
    async with node_client(url) as client:
        await _started(client)
        await client.send(op="subscribe", event=event_id)
        await client.expect("done", op="subscribe", error=None)
        assert client.board.fulls == 1  # the full payload comes with the subscription
        return client


async def _python_client_follows(url: str, event_id: int) -> PythonHubClient:
    """signalrcore: started, subscribed, its first full payload received."""
    client = PythonHubClient(url)
    await client.start()
    try:
        client.subscribe(event_id)
        await client.expect("done")
        async with asyncio.timeout(WAIT_S):
            while client.board.fulls == 0:
                await client.expect("status")
    finally:
        await client.stop()
    return client


def _shows_the_event(board: Board, race: Race) -> None:
    assert board.state is not None
    assert (board.state["e"], board.state["n"]) == (race.event_id, "Cluster Day")


async def test_negotiate_on_one_node_and_the_socket_on_another(
    cluster: Cluster, balancer: Balancer
) -> None:
    race = await _relay_race_to(cluster, 0)
    url = f"{balancer.url}/event-status"
    node = await _node_client_follows(url, race.event_id)
    python = await _python_client_follows(url, race.event_id)
    for board in (node.board, python.board):
        _shows_the_event(board, race)
        assert board.state is not None and board.state["cps"]  # the race's cars, from B
    _check_split(balancer, cluster, sockets=2)
    # A client that skips negotiation needs nothing from any node but its socket.
    async with node_client(f"{cluster.nodes[1].url}/event-status", "--skip-negotiation") as skip:
        await _started(skip)
        await skip.send(op="subscribe", event=race.event_id)
        await skip.expect("done", op="subscribe", error=None)
        _shows_the_event(skip.board, race)


async def test_a_viewer_on_b_gets_the_cars_relayed_to_a(
    cluster: Cluster, balancer: Balancer
) -> None:
    """The full payload a viewer on B gets on subscribing is the state of the race A was sent:
    entries and car positions as A's ``/live`` renders them."""
    race = await _relay_race_to(cluster, 0)
    expected = expected_board(await asyncio.to_thread(race.live_on, 0), race.info)
    url = f"{balancer.url}/event-status"
    for client in (
        await _node_client_follows(url, race.event_id),
        await _python_client_follows(url, race.event_id),
    ):
        got = client.board.state
        assert got is not None and expected["cps"]
        assert (got["ee"], got["cps"]) == (expected["ee"], expected["cps"])
    _check_split(balancer, cluster, sockets=2)
