"""Background sync: off by default; every N minutes when on; a spent rate limit ends a round."""

from __future__ import annotations

import asyncio
import time

from tests.api.world import World
from tests.iracing.fake_iracing import FakeState
from tests.iracing.flow import connect


async def _status(world: World, who: str) -> dict:
    return (await world.client.get("/api/iracing/status", headers=world.auth(who))).json()


async def test_off_by_default(world: World) -> None:
    assert world.platform.settings.iracing_sync_interval_min == 0
    assert world.platform.iracing_sync.running is False


async def test_a_round_syncs_every_connected_account(world: World, fake: FakeState) -> None:
    await connect(world, "viewer")
    await connect(world, "organizer")
    done = await world.platform.iracing_sync.round()
    assert (done.synced_accounts, done.failed_accounts, done.rate_limited) == (2, 0, False)
    for who in ("viewer", "organizer"):
        assert (await _status(world, who))["lastSyncedAt"] is not None
        page = await world.client.get("/api/iracing/sessions", headers=world.auth(who))
        assert page.json()["total"] == 3


async def test_a_spent_rate_limit_ends_the_round(world: World, fake: FakeState) -> None:
    await connect(world, "viewer")
    await connect(world, "organizer")
    fake.limit_next = 1
    fake.rate_reset_in_s = 300
    done = await world.platform.iracing_sync.round()
    assert done.rate_limited is True
    assert done.synced_accounts == 1  # the first one met the limit; the second was not tried
    statuses = [await _status(world, who) for who in ("viewer", "organizer")]
    assert sum(s["lastSyncedAt"] is not None for s in statuses) == 1


async def test_runs_on_its_own_when_switched_on(world: World, fake: FakeState) -> None:
    await connect(world, "viewer")
    background = world.platform.iracing_sync
    world.platform.iracing.settings = world.platform.settings.model_copy(
        update={"iracing_sync_interval_min": 0.01}  # 0.6 s
    )
    await background.start()
    try:
        assert background.running
        deadline = time.monotonic() + 15
        while background.rounds < 2:
            assert time.monotonic() < deadline, "no second round"
            await asyncio.sleep(0.1)
    finally:
        await background.close()
    assert not background.running
    assert (await _status(world, "viewer"))["lastSyncedAt"] is not None
