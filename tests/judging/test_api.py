"""The organizers' API and the judges' REST in process: who may, bad input naming the field,
15 per team, sending again, results ranked from the event's log (JSON and CSV)."""

from __future__ import annotations

import pytest

from tests.api.world import World

ORGANIZER_ROUTES = [
    ("POST", "/events/{public}/judges", {"username": "viewer"}),
    ("GET", "/events/{public}/judges", None),
    (
        "POST",
        "/events/{public}/competitions",
        {"name": "X", "scheduledStart": "2025-06-02T10:00:00Z"},
    ),
    ("GET", "/events/{public}/competitions", None),
    ("GET", "/events/{public}/competitions/{competition}", None),
    ("POST", "/events/{public}/competitions/{competition}/teams", {"name": "T", "number": "99"}),
    ("GET", "/events/{public}/competitions/{competition}/teams", None),
    ("PATCH", "/events/{public}/competitions/{competition}/teams/{team}", {"name": "T2"}),
    ("POST", "/events/{public}/competitions/{competition}/start", None),
    (
        "DELETE",
        "/events/{public}/competitions/{running_competition}/teams/"
        "{running_competition_judge_team}/records/tap-1",
        None,
    ),
    ("POST", "/events/{public}/competitions/{running_competition}/stop", None),
    ("GET", "/events/{public}/competitions/{competition}/results", None),
    ("POST", "/api/competencias/{competition}/iniciar/", None),
    ("POST", "/api/competencias/{running_competition}/detener/", None),
]


def _path(world: World, path: str) -> str:
    return path.format(**world.ids)


@pytest.mark.parametrize(("method", "path", "body"), ORGANIZER_ROUTES)
@pytest.mark.parametrize("who", ["judge", "other_organizer", "client_partner"])
async def test_judges_and_strangers_may_not_run_competitions(
    world: World, method: str, path: str, body: object, who: str
) -> None:
    answer = await world.client.request(
        method, _path(world, path), json=body, headers=world.auth(who)
    )
    assert answer.status_code == 403, answer.text
    assert answer.json()["detail"]


def _send(world: World, who: str, body: object):
    return world.client.post("/api/enviar_tiempos/", json=body, headers=world.auth(who))


@pytest.mark.parametrize(
    ("registros", "field"),
    [
        ([{"timestamp": "2025-06-02T10:20:00Z"}], "registros.0.tiempo"),
        ([{"timestamp": "2025-06-02T10:20:00Z", "tiempo": -1}], "registros.0.tiempo"),
        ([{"timestamp": "2025-06-02T10:20:00Z", "tiempo": "12"}], "registros.0.tiempo"),
        ([{"timestamp": "yesterday", "tiempo": 1}], "registros.0.timestamp"),
        ([{"tiempo": 1}], "registros.0.timestamp"),
        ([{"timestamp": "2025-06-02T10:20:00Z", "tiempo": 1}] * 101, "registros"),
        ([], "registros"),
    ],
)
async def test_bad_times_name_the_field_and_store_nothing(
    world: World, registros: list, field: str
) -> None:
    answer = await _send(world, "judge", {"equipo_id": world.ids["team"], "registros": registros})
    assert answer.status_code == 422, answer.text
    assert field in [error["field"] for error in answer.json()["errors"]]
    results = await world.client.get(
        _path(world, "/events/{public}/competitions/{competition}/results"),
        headers=world.auth("organizer"),
    )
    assert all(team["runners"] == 0 for team in results.json()["teams"])


async def test_times_before_the_start_are_refused(world: World) -> None:
    body = {
        "equipo_id": world.ids["team"],
        "registros": [{"timestamp": "2025-06-02T10:20:00Z", "tiempo": 5}],
    }
    answer = await _send(world, "judge", body)
    assert answer.status_code == 409, answer.text
    assert "not started" in answer.json()["detail"]


async def test_malformed_json_is_400(world: World) -> None:
    answer = await world.client.post(
        "/api/enviar_tiempos/",
        content=b'{"equipo_id": 1, "registros": [',
        headers={**world.auth("judge"), "Content-Type": "application/json"},
    )
    assert answer.status_code == 400
    assert answer.json()["detail"]


async def test_fifteen_count_and_sending_again_stores_nothing_twice(world: World) -> None:
    team = world.ids["running_competition_judge_team"]
    base = _path(world, "/events/{public}/competitions/{running_competition}")
    tap_1 = f"{base}/teams/{team}/records/tap-1"  # the world's one tap: withdrawn, it counts not
    assert (await world.client.delete(tap_1, headers=world.auth("organizer"))).status_code == 204
    taps = [
        {"timestamp": f"2025-06-02T10:{20 + i:02d}:00.000Z", "tiempo": 1_200_000 + i * 1000}
        for i in range(17)
    ]
    taps[3]["id_registro"] = "b1f5a3e4-1111-4a4a-8a8a-000000000003"
    first = await _send(world, "judge", {"equipo_id": team, "registros": taps[:10]})
    assert first.status_code == 201, first.text
    assert first.json()["total_guardados"] == 10
    # The whole list again (a phone that lost the answer), and seven more.
    second = await _send(world, "judge", {"equipo_id": team, "registros": taps})
    assert second.status_code == 201, second.text
    body = second.json()
    assert (body["total_guardados"], body["total_duplicados"], body["total_ignorados"]) == (
        5,
        10,
        2,
    )
    assert [r["tiempo"] for r in body["registros"]] == [t["tiempo"] for t in taps[:15]]
    assert [r["tiempo"] for r in body["ignorados"]] == [t["tiempo"] for t in taps[15:]]
    assert body["registros"][3]["id_registro"] == taps[3]["id_registro"]

    other = world.ids["running_competition_other_judge_team"]
    fewer = [{"timestamp": "2025-06-02T10:30:00Z", "tiempo": 1_100_000}]
    assert (
        await _send(world, "other_judge", {"equipo_id": other, "registros": fewer})
    ).status_code == 201

    path = _path(world, "/events/{public}/competitions/{running_competition}/results")
    results = await world.client.get(path, headers=world.auth("organizer"))
    assert results.status_code == 200, results.text
    lines = [
        (t["teamId"], t["runners"], t["teamTimeMs"], t["rank"]) for t in results.json()["teams"]
    ]
    # More runners first: 15 in beat one in, though the one ran faster.
    assert lines == [(team, 15, 1_214_000, 1), (other, 1, 1_100_000, 2)]
    records = results.json()["teams"][0]["records"]
    assert [r["timeMs"] for r in records] == [t["tiempo"] for t in taps[:15]]
    assert records[0]["phoneTimestamp"] == taps[0]["timestamp"]

    # The result is the log's: a processor that starts afresh replays it to the same answer.
    await world.platform.processors.stop(world.ids["public"])
    replayed = await world.client.get(path, headers=world.auth("organizer"))
    assert replayed.json() == results.json()

    csv = await world.client.get(path + "?format=csv", headers=world.auth("official"))
    assert csv.status_code == 200
    assert csv.headers["content-type"].startswith("text/csv")
    rows = csv.text.splitlines()
    assert rows[0].startswith("rank,number,team,runners,team_time")
    assert rows[1].split(",")[0] == "1" and rows[1].split(",")[2:6] == [
        "judge team",
        "15",
        "20:14.000",
        "1214000",
    ]


async def test_organizers_make_judges_competitions_and_teams(world: World) -> None:
    headers = world.auth("organizer")
    event = world.ids["public"]
    judge = await world.client.post(
        f"/events/{event}/judges", json={"username": "viewer"}, headers=headers
    )
    assert judge.status_code == 201, judge.text
    again = await world.client.post(
        f"/events/{event}/judges", json={"username": "viewer"}, headers=headers
    )
    assert again.json()["id"] == judge.json()["id"]
    nobody = await world.client.post(
        f"/events/{event}/judges", json={"username": "nobody"}, headers=headers
    )
    assert nobody.status_code == 422
    assert nobody.json()["errors"][0]["field"] == "username"

    made = await world.client.post(
        f"/events/{event}/competitions",
        json={"name": "10K", "scheduledStart": "2025-06-02T09:00:00+02:00"},
        headers=headers,
    )
    assert made.status_code == 201, made.text
    competition = made.json()
    assert competition["state"] == "scheduled"
    assert competition["scheduledStart"].startswith("2025-06-02T07:00:00")
    session = await world.client.get(
        f"/events/{event}/sessions/{competition['sessionId']}", headers=headers
    )
    assert session.status_code == 200 and session.json()["name"] == "10K"
    naive = await world.client.post(
        f"/events/{event}/competitions",
        json={"name": "N", "scheduledStart": "2025-06-02T09:00:00"},
        headers=headers,
    )
    assert naive.status_code == 422
    assert naive.json()["errors"][0]["field"] == "scheduledStart"

    teams = f"/events/{event}/competitions/{competition['id']}/teams"
    team = await world.client.post(
        teams,
        json={"name": "Liebres", "number": "5", "judgeId": judge.json()["id"]},
        headers=headers,
    )
    assert team.status_code == 201, team.text
    clash = await world.client.post(teams, json={"name": "Otra", "number": "5"}, headers=headers)
    assert clash.status_code == 409
    stranger = await world.client.post(
        teams, json={"name": "Otra", "number": "6", "judgeId": 999}, headers=headers
    )
    assert stranger.status_code == 422
    assert stranger.json()["errors"][0]["field"] == "judgeId"
    moved = await world.client.patch(
        f"{teams}/{team.json()['id']}",
        json={"judgeId": world.ids["judge_profile"]},
        headers=headers,
    )
    assert moved.status_code == 200 and moved.json()["judgeId"] == world.ids["judge_profile"]
    listed = await world.client.get(teams, headers=headers)
    assert [t["name"] for t in listed.json()] == ["Liebres"]

    start = f"/events/{event}/competitions/{competition['id']}/start"
    assert (await world.client.post(start, headers=headers)).json()["state"] == "running"
    assert (await world.client.post(start, headers=headers)).status_code == 409


async def test_a_correction_withdraws_a_record(world: World) -> None:
    base = _path(world, "/events/{public}/competitions/{running_competition}")
    team = world.ids["running_competition_judge_team"]
    headers = world.auth("organizer")

    async def runners() -> list[int]:
        answer = await world.client.get(f"{base}/results", headers=headers)
        (line,) = [t for t in answer.json()["teams"] if t["teamId"] == team]
        return [r["timeMs"] for r in line["records"]]

    assert await runners() == [60_000]
    gone = await world.client.delete(f"{base}/teams/{team}/records/tap-1", headers=headers)
    assert gone.status_code == 204, gone.text
    assert await runners() == []
    again = await world.client.delete(f"{base}/teams/{team}/records/tap-1", headers=headers)
    assert again.status_code == 404
    # The phone sending the withdrawn tap again stores nothing.
    resent = {"equipo_id": team, "registros": [
        {"timestamp": "2025-06-02T10:01:00Z", "tiempo": 60_000, "id_registro": "tap-1"}
    ]}  # fmt: skip
    answer = await _send(world, "judge", resent)
    assert answer.status_code == 201 and answer.json()["total_guardados"] == 0
    assert await runners() == []


@pytest.mark.parametrize("who", ["other_judge", "viewer", "organizer", "client_partner"])
async def test_only_the_teams_judge_sends_its_times(world: World, who: str) -> None:
    body = {
        "equipo_id": world.ids["running_competition_judge_team"],
        "registros": [{"timestamp": "2025-06-02T10:20:00Z", "tiempo": 5}],
    }
    answer = await _send(world, who, body)
    assert answer.status_code == 403, answer.text
    unknown = await _send(world, "judge", {**body, "equipo_id": 999_999})
    assert unknown.status_code == 404
