"""Accounts across nodes: one rate limit for the whole cluster (counted in Redis), a role taken
back on one node refused on the others, and requests still answered while Redis is down."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.cluster.nodes import PASSWORD, Cluster, PrivateRedis
from tests.cluster.seed import seed_event, wait_for
from trackside.accounts.principals import RECHECK_S

LIMIT = 6


@pytest.fixture
def cluster(
    cluster_database: str, private_redis: PrivateRedis, cluster_root: Path
) -> Iterator[Cluster]:
    nodes = Cluster(
        cluster_database,
        private_redis.url,
        2,
        cluster_root,
        {"TRACKSIDE_WRITE_RATE_LIMIT": str(LIMIT)},  # per minute: no refill during the test
    )
    try:
        nodes.start()
        yield nodes
    finally:
        nodes.stop()


def test_limits_and_revocations_hold_across_nodes(
    cluster: Cluster, private_redis: PrivateRedis
) -> None:
    a, b = cluster.nodes

    # One write limit for both nodes: writes alternated between them are refused after LIMIT.
    first = {"Authorization": f"Bearer {cluster.admin_token('first')}"}
    answers = [
        httpx.post(
            f"{node.url}/organization", json={"name": f"Club {i}"}, headers=first
        ).status_code
        for i, node in enumerate([a, b] * LIMIT)
    ]
    assert answers == [201] * LIMIT + [429] * LIMIT

    # A role taken back through node A: node B refuses it at once on ordinary routes, and
    # within RECHECK_S on the relay's cached path.
    admin, event = seed_event(cluster, "second")
    cluster.cli("users", "create", "marshal", "--email", "marshal@example.org",
                "--password", PASSWORD)  # fmt: skip
    login = httpx.post(f"{b.url}/auth/login", json={"username": "marshal", "password": PASSWORD})
    marshal = {"Authorization": f"Bearer {login.json()['access']}"}
    me = httpx.get(f"{b.url}/auth/me", headers=marshal).json()
    granted = httpx.post(
        f"{a.url}/users/{me['id']}/roles",
        json={"role": "official", "eventId": event},
        headers=admin,
    )
    assert granted.status_code == 200, granted.text
    (grant,) = granted.json()["grants"]
    relay_ack = f"{b.url}/relay/events/{event}/records/ack?source=rmonitor"
    judges = f"{b.url}/events/{event}/judges"
    assert httpx.get(relay_ack, headers=marshal).status_code == 200  # cached on node B now
    assert httpx.get(judges, headers=marshal).status_code == 200
    taken = httpx.delete(f"{a.url}/users/{me['id']}/roles/{grant['id']}", headers=admin)
    assert taken.status_code == 200, taken.text
    assert httpx.get(judges, headers=marshal).status_code == 403
    wait_for(
        lambda: httpx.get(relay_ack, headers=marshal).status_code == 403,
        "the relay path refusing the role taken back",
        RECHECK_S + 10,
    )

    # Redis dies: every node limits on its own, and requests are still answered, not 500.
    private_redis.stop()
    for node in (a, b):
        made = httpx.post(
            f"{node.url}/organization", json={"name": f"Dark {node.name}"}, headers=admin
        )
        assert made.status_code == 201, made.text
    assert "limiting on this node" in a.log()
