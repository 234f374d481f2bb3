"""Location reports: the WebSocket with its acknowledgement, REST create/list/latest, who reads
whose fixes, and the bad-input table (clear error, nothing stored, socket still open)."""

from __future__ import annotations

import math

import orjson
import pytest
import websockets
from fastapi import FastAPI

from tests.api.world import World
from tests.events.livefeed import serving
from tests.tracking.helpers import at, bearer, new_user
from trackside.tracking import service

REPORTS = "/api/location-reports/"


async def _count(world: World, token: str) -> int:
    page = await world.client.get(REPORTS, headers=bearer(token))
    assert page.status_code == 200, page.text
    return page.json()["count"]


async def test_socket_stores_each_update_and_acknowledges(app: FastAPI, world: World) -> None:
    token = await new_user(world, "rider")
    async with serving(app) as host:
        async with websockets.connect(f"ws://{host}/ws/location/?token={token}") as ws:
            await ws.send(
                orjson.dumps({"type": "location_update", "latitude": 52.2297, "longitude": 21.0122})
            )
            reply = orjson.loads(await ws.recv())
            assert reply["type"] == "location_saved" and reply["success"] is True
            await ws.send(
                orjson.dumps(
                    {
                        "type": "location_update",
                        "latitude": 52.23,
                        "longitude": 21.01,
                        "accuracy": 5,
                        "altitude": 110.5,
                        "speed": 4.2,
                        "heading": 270,
                        "timestamp": at(1, 10),
                        "event": world.ids["public"],
                    }
                )
            )
            second = orjson.loads(await ws.recv())
            assert second["success"] is True and second["id"] != reply["id"]
        # The token also works in the Authorization header and in the login cookie.
        headers = {"Authorization": f"Bearer {token}"}
        async with websockets.connect(
            f"ws://{host}/ws/location/", additional_headers=headers
        ) as ws:
            await ws.send('{"type":"location_update","latitude":1,"longitude":2}')
            assert orjson.loads(await ws.recv())["success"] is True
        cookie = {"Cookie": f"trackside-auth={token}"}
        async with websockets.connect(f"ws://{host}/ws/location/", additional_headers=cookie) as ws:
            await ws.send('{"type":"location_update","latitude":-1,"longitude":-2}')
            assert orjson.loads(await ws.recv())["success"] is True
    page = (await world.client.get(REPORTS, headers=bearer(token))).json()
    assert page["count"] == 4
    stored = next(r for r in page["results"] if r["timestamp"].startswith("2025-06-01T10:00"))
    assert stored["altitude"] == 110.5 and stored["speed"] == 4.2 and stored["heading"] == 270
    assert stored["event"] == world.ids["public"] and stored["source"] == "ws"
    assert stored["user"] == world.users["rider"].id


@pytest.mark.parametrize("query", ["", "?token=nonsense"])
async def test_socket_refuses_without_a_good_token(app: FastAPI, world: World, query: str) -> None:
    async with serving(app) as host, websockets.connect(f"ws://{host}/ws/location/{query}") as ws:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


BAD_UPDATES = [
    ({"type": "location_update", "latitude": 90.5, "longitude": 21.0}, "latitude"),
    ({"type": "location_update", "latitude": -91, "longitude": 21.0}, "latitude"),
    ({"type": "location_update", "latitude": 52.2, "longitude": 180.01}, "longitude"),
    ({"type": "location_update", "latitude": 52.2, "longitude": -181}, "longitude"),
    ('{"type": "location_update", "latitude": NaN, "longitude": 21.0}', None),
    ({"type": "location_update", "latitude": "52.2", "longitude": 21.0}, "latitude"),
    ({"type": "location_update", "latitude": True, "longitude": 21.0}, "latitude"),
    ({"type": "location_update", "longitude": 21.0}, "latitude"),
    ({"type": "location_update", "latitude": 52.2}, "longitude"),
    ({"type": "location_update", "latitude": 52.2, "longitude": 21.0, "speed": "fast"}, "speed"),
    (
        {"type": "location_update", "latitude": 52.2, "longitude": 21.0, "timestamp": "soon"},
        "timestamp",
    ),
    ({"type": "location_update", "latitude": 52.2, "longitude": 21.0, "event": "x"}, "event"),
    ({"latitude": 52.2, "longitude": 21.0}, None),
    ("[1, 2]", None),
    ("not json at all", None),
    ("{" + '"pad": "' + "x" * 20_000 + '", "type": "location_update"}', None),
]


async def test_socket_bad_input_table(app: FastAPI, world: World) -> None:
    token = await new_user(world, "rider")
    url = "ws://{}/ws/location/?token=" + token
    async with serving(app) as host, websockets.connect(url.format(host)) as ws:
        for message, field in BAD_UPDATES:
            await ws.send(message if isinstance(message, str) else orjson.dumps(message).decode())
            reply = orjson.loads(await ws.recv())
            assert reply["type"] == "location_saved", message
            assert reply["success"] is False, message
            assert isinstance(reply["error"], str) and reply["error"], message
            if field is not None:
                assert reply["field"] == field, (message, reply)
        # Still open and working after every refusal.
        await ws.send('{"type":"location_update","latitude":52.2297,"longitude":21.0122}')
        assert orjson.loads(await ws.recv())["success"] is True
    assert await _count(world, token) == 1  # only the good one


async def test_rest_create_and_bad_input(world: World) -> None:
    token = await new_user(world, "rider")
    made = await world.client.post(
        REPORTS,
        json={"latitude": 52.2297, "longitude": 21.0122, "timestamp": at(1, 9), "accuracy": 3.5},
        headers=bearer(token),
    )
    assert made.status_code == 201, made.text
    body = made.json()
    assert {"id", "user", "latitude", "longitude", "timestamp"} <= set(body)
    assert body["latitude"] == 52.2297 and body["timestamp"].startswith("2025-06-01T09:00:00")
    bad_bodies = [
        ({"latitude": 91, "longitude": 0}, "latitude"),
        ({"latitude": 0, "longitude": -180.5}, "longitude"),
        ({"latitude": "52", "longitude": 0}, "latitude"),
        ({"longitude": 0}, "latitude"),
        ({"latitude": 0, "longitude": 0, "timestamp": "yesterday"}, "timestamp"),
    ]
    for bad, field in bad_bodies:
        refused = await world.client.post(REPORTS, json=bad, headers=bearer(token))
        assert refused.status_code == 400, (bad, refused.text)
        assert field in refused.json(), (bad, refused.json())
        assert all(isinstance(m, str) for m in refused.json()[field])
    nan = await world.client.post(
        REPORTS,
        content=b'{"latitude": NaN, "longitude": 0}',
        headers={**bearer(token), "Content-Type": "application/json"},
    )
    assert nan.status_code == 400
    assert await _count(world, token) == 1
    assert math.isfinite(body["longitude"])


async def test_list_pages_filters_and_latest_by_fix_time(world: World) -> None:
    token = await new_user(world, "rider")
    for minute in range(5):
        made = await world.client.post(
            REPORTS,
            json={"latitude": 50 + minute / 100, "longitude": 20, "timestamp": at(1, 12, minute)},
            headers=bearer(token),
        )
        assert made.status_code == 201
    # A late upload of an old fix: stored, but the latest stays the newest by its own time.
    late = await world.client.post(
        REPORTS, json={"latitude": 1, "longitude": 1, "timestamp": at(1, 8)}, headers=bearer(token)
    )
    assert late.status_code == 201
    first = (await world.client.get(f"{REPORTS}?page_size=2", headers=bearer(token))).json()
    assert first["count"] == 6 and len(first["results"]) == 2 and first["previous"] is None
    assert first["results"][0]["timestamp"].startswith("2025-06-01T12:04")
    second = (await world.client.get(first["next"], headers=bearer(token))).json()
    assert second["results"][0]["timestamp"].startswith("2025-06-01T12:02")
    assert second["previous"] is not None
    window = await world.client.get(
        REPORTS,
        params={"since": at(1, 12, 1), "until": at(1, 12, 3)},
        headers=bearer(token),
    )
    assert window.json()["count"] == 3
    latest = (await world.client.get(f"{REPORTS}latest/", headers=bearer(token))).json()
    assert len(latest) == 1 and latest[0]["timestamp"].startswith("2025-06-01T12:04")
    bad = await world.client.get(f"{REPORTS}?since=whenever", headers=bearer(token))
    assert bad.status_code == 400 and "since" in bad.json()


async def test_who_reads_whose_fixes(world: World) -> None:
    rider = await new_user(world, "rider")
    stranger = await new_user(world, "stranger")
    async with world.platform.db_factory() as db:
        await service.add_participant(db, world.ids["public"], "rider")
    for token, when in ((rider, at(1, 11)), (rider, at(3, 11)), (stranger, at(1, 11))):
        made = await world.client.post(
            REPORTS,
            json={"latitude": 10, "longitude": 10, "timestamp": when},
            headers=bearer(token),
        )
        assert made.status_code == 201
    assert await _count(world, rider) == 2  # own fixes, in the event or not
    assert await _count(world, stranger) == 1
    # The organizer of the public event reads its participant's fix within the event's dates.
    organizer = world.tokens["organizer"]
    seen = (await world.client.get(REPORTS, headers=bearer(organizer))).json()
    assert [r["user"] for r in seen["results"]] == [world.users["rider"].id]
    assert seen["results"][0]["timestamp"].startswith("2025-06-01")
    event = (
        await world.client.get(f"{REPORTS}?event={world.ids['public']}", headers=bearer(organizer))
    ).json()
    assert event["count"] == 1
    assert await _count(world, world.tokens["other_organizer"]) == 0
    latest = (await world.client.get(f"{REPORTS}latest/", headers=bearer(organizer))).json()
    assert [r["user"] for r in latest] == [world.users["rider"].id]
    # A participant who pauses sharing is seen by nobody else; their own fixes stay theirs.
    paused = await world.client.put(
        "/api/tracking/sharing", json={"paused": True}, headers=bearer(rider)
    )
    assert paused.status_code == 200
    assert await _count(world, organizer) == 0
    assert await _count(world, rider) == 2
    resumed = await world.client.put(
        "/api/tracking/sharing", json={"paused": False}, headers=bearer(rider)
    )
    assert resumed.json() == {"paused": False}
    assert await _count(world, organizer) == 1
