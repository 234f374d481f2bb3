"""The live map's data: who sees it, its snapshot, its throttled stream, checkpoints."""

from __future__ import annotations

import asyncio

import orjson
import pytest
import websockets
from fastapi import FastAPI

from tests.api.world import World
from tests.events.livefeed import serving
from tests.tracking.helpers import at, bearer, new_user, tracked

COURSE = {
    "checkpoints": [
        {"name": "Start", "kind": "line", "points": [[52.0, 21.0], [52.0, 21.001]]},
        {"name": "Hill", "kind": "circle", "center": [52.01, 21.0005], "radiusM": 30},
        {"name": "Finish", "kind": "line", "points": [[52.02, 21.0], [52.02, 21.001]]},
    ]
}


async def _field(world: World, *names: str) -> dict[str, str]:
    return {name: await tracked(world, world.ids["public"], name) for name in names}


async def _fix(world: World, token: str, lat: float, lon: float, when: str, **extra) -> None:
    made = await world.client.post(
        "/api/location-reports/",
        json={"latitude": lat, "longitude": lon, "timestamp": when, **extra},
        headers=bearer(token),
    )
    assert made.status_code == 201, made.text


async def test_who_sees_the_map(world: World) -> None:
    tokens = await _field(world, "ana", "ben")
    stranger = await new_user(world, "stranger")
    path = f"/events/{world.ids['public']}/tracking/map"
    assert (await world.client.get(path)).status_code == 401
    assert (await world.client.get(path, headers=bearer(stranger))).status_code == 403
    assert (await world.client.get(path, headers=bearer(tokens["ana"]))).status_code == 200
    assert (await world.client.get(path, headers=world.auth("organizer"))).status_code == 200
    public = await world.client.put(
        f"/events/{world.ids['public']}/tracking/settings",
        json={"mapPublic": True, "retentionDays": 7},
        headers=world.auth("organizer"),
    )
    assert public.json() == {"eventId": world.ids["public"], "mapPublic": True, "retentionDays": 7}
    assert (await world.client.get(path)).status_code == 200
    assert (await world.client.get(f"/events/{10**6}/tracking/map")).status_code == 404


async def test_snapshot_has_latest_trail_and_course(world: World) -> None:
    tokens = await _field(world, "ana", "ben")
    put = await world.client.put(
        f"/events/{world.ids['public']}/tracking/checkpoints",
        json=COURSE,
        headers=world.auth("organizer"),
    )
    assert put.status_code == 200, put.text
    for minute in range(3):
        await _fix(world, tokens["ana"], 52.0 + minute / 1000, 21.0, at(1, 10, minute), speed=3.0)
    await _fix(world, tokens["ana"], 51.0, 20.0, at(1, 9, 59))  # late, older: not the latest
    await _fix(world, tokens["ben"], 52.5, 21.5, at(4, 10))  # after the event: not on its map
    snap = (
        await world.client.get(
            f"/events/{world.ids['public']}/tracking/map", headers=world.auth("organizer")
        )
    ).json()
    by_name = {p["name"]: p for p in snap["participants"]}
    assert by_name["ana"]["last"]["lat"] == 52.002 and by_name["ana"]["last"]["speed"] == 3.0
    assert by_name["ana"]["trail"] == [[51.0, 20.0], [52.0, 21.0], [52.001, 21.0], [52.002, 21.0]]
    assert by_name["ben"]["last"] is None and by_name["ben"]["trail"] == []
    assert [c["name"] for c in snap["checkpoints"]] == ["Start", "Hill", "Finish"]
    course = [[52.0, 21.0005], [52.01, 21.0005], [52.02, 21.0005]]
    assert snap["course"] == [[pytest.approx(a), pytest.approx(b)] for a, b in course]
    bad = await world.client.put(
        f"/events/{world.ids['public']}/tracking/checkpoints",
        json={"checkpoints": [{"name": "X", "kind": "line", "points": [[1, 1]]}]},
        headers=world.auth("organizer"),
    )
    assert bad.status_code == 422
    read = await world.client.get(
        f"/events/{world.ids['public']}/tracking/checkpoints", headers=bearer(tokens["ben"])
    )
    assert len(read.json()["checkpoints"]) == 3  # the refused course changed nothing


async def test_stream_is_throttled_per_participant(app: FastAPI, world: World) -> None:
    tokens = await _field(world, "ana", "ben")
    url = "ws://{}/ws/events/" + str(world.ids["public"]) + "/positions?access_token="
    url += world.tokens["organizer"]
    async with serving(app) as host, websockets.connect(url.format(host)) as ws:
        first = orjson.loads(await ws.recv())
        assert first["type"] == "snapshot" and len(first["participants"]) == 2
        # Five fixes of ana inside one throttle period, one of ben: one update, newest only.
        for second in range(5):
            await _fix(world, tokens["ana"], 52.0 + second / 1000, 21.0, at(1, 11, 0, second))
        await _fix(world, tokens["ben"], 52.3, 21.3, at(1, 11))
        update = orjson.loads(await asyncio.wait_for(ws.recv(), 5))
        assert update["type"] == "positions"
        positions = {p["name"]: p for p in update["positions"]}
        assert set(positions) == {"ana", "ben"}
        assert positions["ana"]["lat"] == 52.004
        # An old fix arriving late moves no marker; a newer one does.
        await _fix(world, tokens["ana"], 1.0, 1.0, at(1, 10, 0))
        await _fix(world, tokens["ana"], 52.1, 21.1, at(1, 11, 1))
        later = orjson.loads(await asyncio.wait_for(ws.recv(), 5))
        assert [p["lat"] for p in later["positions"]] == [52.1]


@pytest.mark.parametrize(("who", "code"), [(None, 4401), ("viewer", 4403)])
async def test_stream_refuses_outsiders(app: FastAPI, world: World, who, code) -> None:
    query = "" if who is None else f"?access_token={world.tokens[who]}"
    path = f"/ws/events/{world.ids['public']}/positions{query}"
    async with serving(app) as host, websockets.connect(f"ws://{host}{path}") as ws:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == code
