"""Leases in the shared database: one holder at a time, renewals, expiry, takeover under a new
epoch, and a release that frees the lease at once (on PostgreSQL; SQLite is one node)."""

from __future__ import annotations

import asyncio

import pytest

from trackside.platform import Platform
from trackside.store.leases import Leases, LocalLeases


@pytest.fixture
def database_url(postgres_url: str) -> str:
    from tests.databases import _truncate

    asyncio.run(_truncate(postgres_url))
    return postgres_url


async def test_one_holder_renewals_and_takeover_after_expiry(platform: Platform) -> None:
    a = Leases(platform.db_factory, "node-a", ttl_s=0.3)
    b = Leases(platform.db_factory, "node-b", ttl_s=0.3)
    lease = await a.acquire("event:7")
    assert lease is not None and lease.node == "node-a"
    assert await b.acquire("event:7") is None  # held
    renewed = await a.renew(lease)
    assert renewed is not None and renewed.epoch == lease.epoch
    await asyncio.sleep(0.4)  # a stopped renewing (it died)
    taken = await b.acquire("event:7")
    assert taken is not None and taken.node == "node-b" and taken.epoch > lease.epoch
    assert await a.renew(renewed) is None  # lost: a must stop publishing
    assert (await a.read("event:7")) == taken


async def test_racing_nodes_cannot_both_win(platform: Platform) -> None:
    nodes = [Leases(platform.db_factory, f"node-{i}", ttl_s=5) for i in range(6)]
    won = await asyncio.gather(*(node.acquire("event:9") for node in nodes))
    assert sum(lease is not None for lease in won) == 1


async def test_a_release_frees_the_lease_at_once(platform: Platform) -> None:
    a = Leases(platform.db_factory, "node-a", ttl_s=60)
    b = Leases(platform.db_factory, "node-b", ttl_s=60)
    lease = await a.acquire("controllog:3")
    assert lease is not None
    await a.release(lease)
    taken = await b.acquire("controllog:3")
    assert taken is not None and taken.epoch > lease.epoch
    assert [held.name for held in await b.held("controllog:")] == ["controllog:3"]


async def test_local_leases_grant_at_once_with_growing_epochs() -> None:
    local = LocalLeases("solo", ttl_s=1)
    first = await local.acquire("event:1")
    second = await local.acquire("event:2")
    assert first is not None and second is not None and second.epoch > first.epoch
    assert await local.renew(first) == first
    await local.release(first)
    assert await local.renew(first) is None
