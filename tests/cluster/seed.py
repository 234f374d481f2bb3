"""What most cluster tests start from: an admin's headers and a public event, made over HTTP."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from tests.cluster.nodes import Cluster


def seed_event(cluster: Cluster, admin: str = "clusteradmin") -> tuple[dict[str, str], int]:
    """An admin (made with the CLI) and a public event of a new organization: the admin's
    headers and the event's id."""
    headers = {"Authorization": f"Bearer {cluster.admin_token(admin)}"}
    url = cluster.nodes[0].url
    org = httpx.post(f"{url}/organization", json={"name": "Club"}, headers=headers, timeout=30)
    assert org.status_code == 201, org.text
    event = httpx.post(
        f"{url}/events",
        json={
            "name": "Road America 8 Hour",
            "startDate": "2025-04-26T08:00:00Z",
            "endDate": "2025-04-26T18:00:00Z",
            "organizationId": org.json()["id"],
            "visibility": "public",
        },
        headers=headers,
        timeout=30,
    )
    assert event.status_code == 201, event.text
    return headers, int(event.json()["id"])


def wait_for(check: Callable[[], bool], what: str, timeout_s: float = 20.0) -> None:
    """Until ``check()`` holds; fails naming ``what`` once ``timeout_s`` has passed."""
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not in {timeout_s} s: {what}")
        time.sleep(0.05)
