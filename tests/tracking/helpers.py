"""Shared helpers of the tracking tests: tracked participants, tokens, fixes posted."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.api.world import ISS, PASSWORD, World
from trackside.accounts import logins
from trackside.accounts import people as accounts


async def new_user(world: World, name: str) -> str:
    """A verified account; its access token (also kept in ``world.tokens``)."""
    platform = world.platform
    async with platform.db_factory() as db:
        user = await accounts.create(
            platform,
            db,
            username=name,
            email=f"{name}@example.org",
            password=PASSWORD,
            verified=True,
        )
        await db.commit()
    world.users[name] = user
    world.tokens[name] = logins.access_token(platform, user, ISS)
    return world.tokens[name]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def at(day: int, hour: int, minute: int = 0, second: float = 0) -> str:
    """An instant of June 2025 (the world's events run 1-2 June and 5 June) in ISO 8601."""
    whole = int(second)
    micro = round((second - whole) * 1_000_000)
    return datetime(2025, 6, day, hour, minute, whole, micro, tzinfo=UTC).isoformat()


async def tracked(world: World, event_id: int, name: str) -> str:
    """A new account tracked in the event (added by its organizer); its access token."""
    token = await new_user(world, name)
    added = await world.client.post(
        f"/events/{event_id}/tracking/participants",
        json={"username": name},
        headers=world.auth("organizer"),
    )
    assert added.status_code == 201, added.text
    return token
