"""``trackside tracking prune``: fixes past their event's retention, or in no event past the
global one, are deleted; the rest stays."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.api.world import World
from tests.tracking.helpers import at, bearer, new_user, tracked
from trackside.tracking.prune import prune

REPORTS = "/api/location-reports/"


async def _fix(world: World, token: str, when: str) -> None:
    made = await world.client.post(
        REPORTS, json={"latitude": 1, "longitude": 2, "timestamp": when}, headers=bearer(token)
    )
    assert made.status_code == 201


async def _times(world: World, token: str) -> list[str]:
    page = (await world.client.get(REPORTS, headers=bearer(token))).json()
    return sorted(r["timestamp"][:10] for r in page["results"])


async def test_prune_keeps_what_is_within_retention(world: World) -> None:
    # The public event (1-2 June 2025) keeps its fixes 30 days after its end; the private one
    # (5 June) only 1 day.
    kept = await world.client.put(
        f"/events/{world.ids['private']}/tracking/settings",
        json={"retentionDays": 1},
        headers=world.auth("organizer"),
    )
    assert kept.status_code == 200
    rider = await tracked(world, world.ids["public"], "rider")
    added = await world.client.post(
        f"/events/{world.ids['private']}/tracking/participants",
        json={"username": "rider"},
        headers=world.auth("organizer"),
    )
    assert added.status_code == 201
    loner = await new_user(world, "loner")
    await _fix(world, rider, at(1, 10))  # public event
    await _fix(world, rider, at(5, 10))  # private event
    await _fix(world, rider, at(20, 10))  # no event
    await _fix(world, loner, at(1, 10))  # no event (loner is tracked nowhere)

    async def run(now: datetime) -> int:
        async with world.platform.db_factory() as db:
            return await prune(db, now=now, retention_days=365)

    assert await run(datetime(2025, 6, 10, tzinfo=UTC)) == 1  # the private event's, 1 day on
    assert await _times(world, rider) == ["2025-06-01", "2025-06-20"]
    assert await run(datetime(2025, 7, 10, tzinfo=UTC)) == 1  # the public event's, 30 days on
    assert await _times(world, rider) == ["2025-06-20"]
    assert await _times(world, loner) == ["2025-06-01"]
    assert await run(datetime(2026, 7, 1, tzinfo=UTC)) == 2  # over a year on: the rest
    assert await _times(world, rider) == [] and await _times(world, loner) == []
