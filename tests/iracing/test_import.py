"""A synced iRacing session imported into an event is scored like a race from its laps."""

from __future__ import annotations

from tests.api.world import World
from tests.iracing import samples
from tests.iracing.fake_iracing import MEMBER_ID, FakeState
from tests.iracing.flow import connect


async def _synced(world: World, who: str = "organizer") -> dict[int, int]:
    await connect(world, who)
    assert (
        await world.client.post("/api/iracing/sync", headers=world.auth(who))
    ).status_code == 200
    page = await world.client.get("/api/iracing/sessions", headers=world.auth(who))
    return {s["subSessionId"]: s["id"] for s in page.json()["sessions"]}


async def _import(world: World, session: int, event: int, who: str = "organizer"):
    return await world.client.post(
        f"/api/iracing/sessions/{session}/import",
        params={"eventId": event},
        headers=world.auth(who),
    )


async def test_a_league_race_becomes_a_scored_session(world: World, fake: FakeState) -> None:
    ids = await _synced(world)
    event = world.ids["public"]
    done = await _import(world, ids[samples.LEAGUE_RACE], event)
    assert done.status_code == 200, done.text
    body = done.json()
    assert (body["eventId"], body["subSessionId"]) == (event, samples.LEAGUE_RACE)
    assert (body["laps"], body["drivers"]) == (7, 3)
    assert body["records"] > 7
    # lap data was asked per driver, of the main event
    assert fake.data_calls.count("results/lap_data") == 3

    live = (await world.client.get(f"/events/{event}/live")).json()
    text = str(live)
    assert "iRacing race 70001" in text
    sessions = await world.client.get(f"/events/{event}/sessions", headers=world.auth("viewer"))
    imported = [s for s in sessions.json() if s["name"].startswith("iRacing race")]
    assert len(imported) == 1
    assert imported[0]["type"] == "race"
    assert imported[0]["startTime"] == "2026-11-20T19:00:00Z"  # iRacing start_time
    result = await world.client.get(
        f"/events/{event}/sessions/{imported[0]['id']}/results", headers=world.auth("viewer")
    )
    assert result.status_code == 200, result.text
    cars = result.json()["cars"] if "cars" in result.json() else result.json()["results"]
    by_name = {c["name"]: c for c in cars}
    ana = next(c for n, c in by_name.items() if "Diaz" in n)
    bo = next(c for n, c in by_name.items() if "Li" in n)
    assert (ana["position"], bo["position"]) == (1, 2)
    assert ana["best_lap_ms"] == 131760  # 1317601 / 10000 s, in ms
    assert ana["laps"] == 3
    assert ana["starting_position"] == 2
    chart = await world.client.get(f"/events/{event}/live/sessions/0/charts/laps.svg")
    assert chart.status_code == 200 and "<svg" in chart.text
    assert "polyline" in chart.text or "path" in chart.text  # real lap times drawn


async def test_importing_again_adds_nothing(world: World) -> None:
    ids = await _synced(world)
    event = world.ids["public"]
    first = (await _import(world, ids[samples.LEAGUE_RACE], event)).json()
    again = await _import(world, ids[samples.LEAGUE_RACE], event)
    assert again.status_code == 200
    assert again.json()["records"] == 0 and first["records"] > 0
    assert "already imported" in again.json()["message"]


async def test_a_practice_is_ordered_by_best_lap(world: World, fake: FakeState) -> None:
    fake.documents[f"laps/{samples.HOSTED_PRACTICE}/{MEMBER_ID}"] = samples.laps(
        MEMBER_ID, [600000, 584321, 590000]
    )
    ids = await _synced(world)
    event = world.ids["public"]
    assert (await _import(world, ids[samples.HOSTED_PRACTICE], event)).status_code == 200
    sessions = await world.client.get(f"/events/{event}/sessions", headers=world.auth("viewer"))
    [practice] = [s for s in sessions.json() if s["name"].startswith("iRacing practice")]
    assert practice["type"] == "practice"
    assert practice["endTime"] is not None  # the finish closed the run
    result = await world.client.get(
        f"/events/{event}/sessions/{practice['id']}/results", headers=world.auth("viewer")
    )
    [ana] = result.json()["cars"]
    assert (ana["position"], ana["best_lap_ms"], ana["best_lap"]) == (1, 58432, 2)


async def test_only_the_events_organizers_import_and_only_their_sessions(
    world: World,
) -> None:
    ids = await _synced(world, "organizer")
    public, private = world.ids["public"], world.ids["private"]
    session = ids[samples.LEAGUE_RACE]
    # an organizer of another organization may not import into this one's event
    await connect(world, "other_organizer")
    refused = await _import(world, session, public, "other_organizer")
    assert refused.status_code == 403
    # an official of the event, with their own synced copy, is not an organizer
    await _synced(world, "official")
    theirs = (
        await world.client.get("/api/iracing/sessions", headers=world.auth("official"))
    ).json()["sessions"][0]["id"]
    assert (await _import(world, theirs, public, "official")).status_code == 403
    # the organizer may not import the official's synced session: it is not theirs
    assert (await _import(world, theirs, public)).status_code == 404
    assert (await _import(world, session, 999_999)).status_code == 404
    assert (await _import(world, session, private)).status_code == 200
