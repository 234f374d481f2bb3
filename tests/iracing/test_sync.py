"""Syncing league and hosted sessions from the fake's /data API, and reading them back."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.api.world import World
from tests.iracing import samples
from tests.iracing.fake_iracing import MEMBER_ID, FakeState
from tests.iracing.flow import connect
from trackside.iracing.models import IracingParticipant, IracingSession


async def _sync(world: World, who: str = "viewer"):
    return await world.client.post("/api/iracing/sync", headers=world.auth(who))


async def _sessions(world: World, who: str = "viewer", **params):
    answer = await world.client.get("/api/iracing/sessions", params=params, headers=world.auth(who))
    assert answer.status_code == 200, answer.text
    return answer.json()


async def _counts(world: World) -> tuple[int, int]:
    async with world.platform.db_factory() as db:
        sessions = await db.scalar(select(func.count()).select_from(IracingSession))
        people = await db.scalar(select(func.count()).select_from(IracingParticipant))
    return sessions or 0, people or 0


async def test_sync_reads_league_and_hosted_sessions(world: World, fake: FakeState) -> None:
    await connect(world)
    synced = await _sync(world)
    assert synced.status_code == 200, synced.text
    assert synced.json() == {
        "message": "Synced 3 session(s).",
        "synced": 3,
        "errors": 0,
        "errorDetails": [],
        "rateLimitResetInS": None,
    }
    # the search came in chunks, fetched from pre-signed links without our token
    assert any(key.startswith("chunks/") for key in fake.blob_calls)
    assert "league/season_sessions" in fake.data_calls
    assert "results/search_hosted" in fake.data_calls
    page = await _sessions(world)
    assert page["total"] == 3 and page["limit"] == 50 and page["offset"] == 0
    team, practice, race = page["sessions"]  # newest first
    assert race["subSessionId"] == samples.LEAGUE_RACE
    assert race["sessionId"] == "9001"
    assert race["sessionType"] == "race"
    assert race["kind"] == "league"
    assert (race["leagueId"], race["leagueName"]) == (samples.LEAGUE_ID, "Solana Grand Prix")
    assert race["seasonId"] == samples.SEASON_ID
    assert race["trackName"] == "Circuit de Spa-Francorchamps - Grand Prix Pits"
    assert race["carName"] == "Formula iR-04"
    assert race["startTime"] == "2026-11-20T19:00:00Z"
    assert race["participantCount"] == 3
    assert race["participant"] == {
        "custId": MEMBER_ID,
        "displayName": "Ana Diaz",
        "teamName": None,
        "carNumber": "45",
        "carClass": "FR",
        "lapsCompleted": 3,
        "bestLapTime": 131.7601,
        "incidents": 2,
        "finishPosition": 1,
        "startingPosition": 2,
        "totalLaps": 3,
    }
    assert practice["sessionType"] == "practice" and practice["kind"] == "hosted"
    assert practice["participant"]["startingPosition"] is None
    assert team["participant"]["teamName"] == "Diaz Racing"
    assert team["participant"]["lapsCompleted"] == 4
    status = (await world.client.get("/api/iracing/status", headers=world.auth("viewer"))).json()
    assert status["lastSyncedAt"] is not None


async def test_sync_again_updates_and_never_duplicates(world: World, fake: FakeState) -> None:
    await connect(world)
    await _sync(world)
    first = await _counts(world)
    fake.documents[f"results/{samples.LEAGUE_RACE}"]["session_results"][1]["results"][0][
        "incidents"
    ] = 7
    await _sync(world)
    assert await _counts(world) == first == (3, 7)
    page = await _sessions(world)
    race = next(s for s in page["sessions"] if s["subSessionId"] == samples.LEAGUE_RACE)
    assert race["participant"]["incidents"] == 7


async def test_paging(world: World) -> None:
    await connect(world)
    await _sync(world)
    page = await _sessions(world, limit=2, offset=1)
    assert page["total"] == 3 and page["limit"] == 2 and page["offset"] == 1
    assert [s["subSessionId"] for s in page["sessions"]] == [
        samples.HOSTED_PRACTICE,
        samples.LEAGUE_RACE,
    ]
    bad = await world.client.get(
        "/api/iracing/sessions", params={"limit": 0}, headers=world.auth("viewer")
    )
    assert bad.status_code == 422


async def test_a_user_sees_only_their_own_sessions(world: World) -> None:
    await connect(world, "viewer")
    await _sync(world, "viewer")
    assert (await _sessions(world, "organizer"))["total"] == 0
    assert (await _sync(world, "organizer")).status_code == 404  # not connected


async def test_a_failed_call_is_retried_once(world: World, fake: FakeState) -> None:
    await connect(world)
    fake.fail_next = 1
    synced = (await _sync(world)).json()
    assert (synced["synced"], synced["errors"]) == (3, 0)


async def test_what_fails_twice_is_reported_and_the_rest_kept(
    world: World, fake: FakeState
) -> None:
    await connect(world)
    del fake.documents[f"results/{samples.HOSTED_PRACTICE}"]  # 404 for one subsession
    fake.maintenance = 2  # the first call (league memberships) fails, and its retry
    answer = await _sync(world)
    assert answer.status_code == 200
    body = answer.json()
    assert body["synced"] == 1  # the team race; the league was down, the practice missing
    assert body["errors"] == 2
    assert any("maintenance" in d for d in body["errorDetails"])
    assert any(str(samples.HOSTED_PRACTICE) in d for d in body["errorDetails"])
    assert "with 2 error(s)" in body["message"]


async def test_a_429_waits_for_the_reset(world: World, fake: FakeState) -> None:
    await connect(world)
    fake.limit_next = 1
    fake.rate_reset_in_s = 1
    body = (await _sync(world)).json()
    assert (body["synced"], body["errors"]) == (3, 0)
    # It waited for x-ratelimit-reset: the call after the 429 came once the limit had reset.
    (reset,) = fake.announced_resets
    assert fake.data_call_times[1] >= reset


async def test_a_reset_too_far_away_is_reported_not_waited(world: World, fake: FakeState) -> None:
    await connect(world)
    fake.limit_next = 1
    fake.rate_reset_in_s = 120  # beyond the 3 s the tests allow
    body = (await _sync(world)).json()
    assert len(fake.data_calls) == 1  # reported at once, not waited out nor retried
    assert body["rateLimitResetInS"] is not None and body["rateLimitResetInS"] > 60
    assert "rate limit" in body["message"]
    assert body["errors"] >= 1
    # the gate is shared: another member's sync does not hammer iRacing meanwhile
    calls = len(fake.data_calls)
    await connect(world, "organizer")
    other = (await _sync(world, "organizer")).json()
    assert other["synced"] == 0 and other["rateLimitResetInS"] is not None
    assert len(fake.data_calls) == calls
