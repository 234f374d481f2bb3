"""Token refresh: ahead of expiry, single-use refresh tokens kept before use, a refused refresh
marks the connection for a reconnect."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from tests.api.world import World
from tests.iracing.fake_iracing import FakeState
from tests.iracing.flow import connect
from trackside.iracing.models import IracingAccount


async def _account(world: World) -> IracingAccount:
    async with world.platform.db_factory() as db:
        return (await db.scalars(select(IracingAccount))).one()


async def _expire_soon(world: World, in_s: int = 60) -> None:
    async with world.platform.db_factory() as db:
        await db.execute(
            update(IracingAccount).values(expires_at=datetime.now(UTC) + timedelta(seconds=in_s))
        )
        await db.commit()


async def _token(world: World, force: bool = False) -> str:
    iracing = world.platform.iracing
    user = world.users["viewer"].id
    async with iracing.lock(user), world.platform.db_factory() as db:
        return await iracing.access_token(db, user, force=force)


async def test_a_token_far_from_expiry_is_used_as_is(world: World, fake: FakeState) -> None:
    await connect(world)
    forms = len(fake.token_forms)
    before = await _account(world)
    assert await _token(world) == world.platform.iracing.box.open(before.access_token)
    assert len(fake.token_forms) == forms


async def test_expiring_within_5_minutes_refreshes_and_keeps_the_new_pair_first(
    world: World, fake: FakeState
) -> None:
    await connect(world)
    box = world.platform.iracing.box
    old = await _account(world)
    old_refresh = box.open(old.refresh_token)
    await _expire_soon(world, 4 * 60)
    token = await _token(world)
    form = fake.token_forms[-1]
    assert form["grant_type"] == "refresh_token"
    assert form["refresh_token"] == old_refresh
    assert form["client_secret"] == "D2GfmYK/nC8zeQPkpV2uGkk13hL0/LTQH44hiJKawCo="
    new = await _account(world)
    assert box.open(new.access_token) == token != box.open(old.access_token)
    new_refresh = box.open(new.refresh_token)
    assert new_refresh != old_refresh
    assert fake.refresh[old_refresh][2] is True  # spent at iRacing
    assert new.expires_at > datetime.now(UTC) + timedelta(minutes=9)
    # the next refresh uses the new token and works again
    await _expire_soon(world)
    assert await _token(world) != token
    assert fake.token_forms[-1]["refresh_token"] == new_refresh


async def test_a_reused_refresh_token_is_refused_and_asks_for_a_reconnect(
    world: World, fake: FakeState
) -> None:
    """A stolen (already used) refresh token: iRacing refuses it; the connection says so."""
    await connect(world)
    old = await _account(world)
    await _expire_soon(world)
    await _token(world)  # spends old.refresh_token
    async with world.platform.db_factory() as db:  # put the spent token back, as a thief would
        await db.execute(
            update(IracingAccount).values(
                refresh_token=old.refresh_token, expires_at=datetime.now(UTC)
            )
        )
        await db.commit()
    synced = await world.client.post("/api/iracing/sync", headers=world.auth("viewer"))
    assert synced.status_code == 409
    assert "reconnect" in synced.json()["detail"]
    assert fake.token_forms[-1]["grant_type"] == "refresh_token"
    status = (await world.client.get("/api/iracing/status", headers=world.auth("viewer"))).json()
    assert status["connected"] is False
    assert status["needsReconnect"] is True
    assert status["isExpired"] is True
    assert "invalid_grant" in status["lastError"]
    # connecting again clears it
    await connect(world)
    status = (await world.client.get("/api/iracing/status", headers=world.auth("viewer"))).json()
    assert status["connected"] is True and status["needsReconnect"] is False


async def test_an_access_token_iracing_refuses_is_refreshed_once(
    world: World, fake: FakeState
) -> None:
    await connect(world)
    fake.expire_access_tokens()  # iRacing says 401 though our clock thinks it is fresh
    synced = await world.client.post("/api/iracing/sync", headers=world.auth("viewer"))
    assert synced.status_code == 200, synced.text
    assert synced.json()["synced"] == 3
    grants = [f["grant_type"] for f in fake.token_forms]
    assert grants == ["authorization_code", "refresh_token"]
