"""Devices, participants and the trackers' own protocols, with the reference's request shapes
byte for byte: OwnTracks HTTP, Traccar Client / OsmAnd (query, form, JSON object, JSON array).
Duplicates (same device, same device time) are stored once; late fixes are accepted."""

from __future__ import annotations

import base64
from pathlib import Path

import httpx
import pytest

from tests.api.world import PASSWORD, World
from tests.databases import test_settings
from tests.events.livefeed import free_port
from tests.tracking.helpers import bearer, new_user
from trackside.config import Settings

REPORTS = "/api/location-reports/"


def basic(username: str, password: str) -> dict[str, str]:
    raw = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


async def _device(world: World, token: str, device_id: str | None = None) -> dict:
    body = {} if device_id is None else {"deviceId": device_id}
    made = await world.client.post("/api/tracking/devices", json=body, headers=bearer(token))
    assert made.status_code == 201, made.text
    assert set(made.json()) == {"id", "deviceId", "token"}
    return made.json()


async def _reports(world: World, token: str) -> list[dict]:
    page = await world.client.get(f"{REPORTS}?page_size=1000", headers=bearer(token))
    assert page.status_code == 200
    return page.json()["results"]


async def _track(world: World, username: str) -> None:
    added = await world.client.post(
        f"/events/{world.ids['public']}/tracking/participants",
        json={"username": username},
        headers=world.auth("organizer"),
    )
    assert added.status_code == 201, added.text


OWNTRACKS_EXAMPLE = (
    b'{"_type":"location","tid":"K7","lat":51.3561,"lon":-1.5244,"tst":1745580000,'
    b'"acc":8,"vel":112,"batt":71}'
)


@pytest.mark.parametrize("path", ["/api/owntracks", "/pub"])
async def test_owntracks_location_with_a_device_token(world: World, path: str) -> None:
    token = await new_user(world, "kasia")
    device = await _device(world, token)
    headers = {**basic("kasia", device["token"]), "Content-Type": "application/json"}
    sent = await world.client.post(path, content=OWNTRACKS_EXAMPLE, headers=headers)
    assert sent.status_code == 200, sent.text
    assert sent.json() == []  # nobody else tracked with kasia yet
    (fix,) = await _reports(world, token)
    assert (fix["latitude"], fix["longitude"]) == (51.3561, -1.5244)
    assert fix["timestamp"] == "2025-04-25T11:20:00Z"
    assert fix["speed"] == pytest.approx(112 / 3.6)  # km/h → m/s
    assert fix["accuracy"] == 8 and fix["battery"] == 71 and fix["source"] == "owntracks"
    # The app resends its queue after a timeout: the same device and time is stored once.
    again = await world.client.post(path, content=OWNTRACKS_EXAMPLE, headers=headers)
    assert again.status_code == 200
    assert len(await _reports(world, token)) == 1


async def test_owntracks_password_other_types_and_refusals(world: World) -> None:
    token = await new_user(world, "kasia")
    good = {**basic("kasia", PASSWORD), "X-Limit-U": "kasia", "X-Limit-D": "phone"}
    for body in (
        b'{"_type":"lwt","tst":1745580000}',
        b'{"_type":"transition","event":"enter","tst":1745580000}',
        b'{"_type":"waypoints","waypoints":[]}',
        b"",
    ):
        ignored = await world.client.post("/api/owntracks", content=body, headers=good)
        assert ignored.status_code == 200 and ignored.json() == [], body
    assert await _reports(world, token) == []
    stored = await world.client.post("/api/owntracks", content=OWNTRACKS_EXAMPLE, headers=good)
    assert stored.status_code == 200
    assert [r["device"] for r in await _reports(world, token)] == ["owntracks:phone"]
    for headers in ({}, basic("kasia", "wrong password"), basic("nobody", PASSWORD)):
        refused = await world.client.post(
            "/api/owntracks", content=OWNTRACKS_EXAMPLE, headers=headers
        )
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"].startswith("Basic")
    for bad in (
        b'{"_type":"location","lat":91,"lon":0,"tst":1745580000,"tid":"K7"}',
        b'{"_type":"location","lat":"51.3","lon":0,"tst":1745580000,"tid":"K7"}',
        b'{"_type":"location","lat":51.3,"lon":0,"tid":"K7"}',
        b"{not json",
    ):
        refused = await world.client.post("/api/owntracks", content=bad, headers=good)
        assert refused.status_code == 400, bad
        assert refused.json()["detail"]
    assert len(await _reports(world, token)) == 1


async def test_owntracks_reply_shows_the_other_participants(world: World) -> None:
    kasia = await new_user(world, "kasia")
    await new_user(world, "tomek")
    await _track(world, "kasia")
    await _track(world, "tomek")
    # Tomek's phone sends during the event (1 June 2025 10:00 UTC).
    tomek = {**basic("tomek", PASSWORD), "X-Limit-D": "phone"}
    sent = await world.client.post(
        "/pub",
        content=b'{"_type":"location","tid":"TK","lat":52.1,"lon":21.2,"tst":1748772000,"acc":5}',
        headers=tomek,
    )
    assert sent.status_code == 200
    assert (
        sent.json() == [{"_type": "card", "name": "kasia", "tid": "KA"}][:0]
    )  # kasia has sent nothing yet: tomek sees nobody
    reply = await world.client.post(
        "/pub",
        content=b'{"_type":"location","tid":"KS","lat":52.0,"lon":21.0,"tst":1748772060}',
        headers=basic("kasia", PASSWORD),
    )
    cards = reply.json()
    assert {"_type": "card", "name": "tomek", "tid": "TK"} in cards
    (location,) = [c for c in cards if c["_type"] == "location"]
    assert location == {
        "_type": "location",
        "tid": "TK",
        "lat": 52.1,
        "lon": 21.2,
        "tst": 1748772000,
        "topic": "owntracks/tomek/trackside",
        "acc": 5,
    }
    # Paused sharing hides tomek from his friends.
    paused = await world.client.put(
        "/api/tracking/sharing", json={"paused": True}, headers=bearer(world.tokens["tomek"])
    )
    assert paused.status_code == 200 and paused.json() == {"paused": True}
    hidden = await world.client.post("/pub", content=b"", headers=basic("kasia", PASSWORD))
    assert hidden.json() == []
    assert len(await _reports(world, kasia)) == 1


OSMAND_QUERY = (
    "id=48241179&lat=52.2297&lon=21.0122&timestamp=1748772000&speed=10&bearing=90"
    "&altitude=110&accuracy=4&batt=88&hdop=0.9&cell=260,2,1234,5678&cell=260,2,1234,5679"
)
TRACCAR_JSON = (
    b'{"location":{"timestamp":"2025-06-01T10:00:00.000Z","coords":{"latitude":52.2297,'
    b'"longitude":21.0122,"accuracy":4,"speed":5.5,"heading":-1,"altitude":110},'
    b'"is_moving":true,"odometer":1520,"event":"motionchange","battery":{"level":0.74,'
    b'"is_charging":false},"activity":{"type":"on_foot"},"extras":{}},"device_id":"48241179"}'
)
TRACCAR_ARRAY = (
    b'[{"id":"48241179","lat":52.23,"lon":21.01,"timestamp":1748772060,"speed":2},'
    b'{"id":"48241179","lat":52.24,"lon":21.02,"timestamp":"2025-06-01 10:02:00"},'
    b'{"deviceid":"48241179","location":"52.25,21.03","timestamp":1748772180000}]'
)


async def test_osmand_query_form_json_object_and_array(world: World) -> None:
    token = await new_user(world, "ola")
    await _device(world, token, "48241179")
    got = await world.client.get(f"/api/osmand?{OSMAND_QUERY}")
    assert got.status_code == 200 and got.content == b""
    (fix,) = await _reports(world, token)
    assert fix["timestamp"] == "2025-06-01T10:00:00Z"
    assert fix["speed"] == pytest.approx(10 * 0.514444)  # knots → m/s
    assert (fix["heading"], fix["altitude"], fix["accuracy"], fix["battery"]) == (90, 110, 4, 88)
    assert fix["source"] == "osmand"

    form = OSMAND_QUERY.replace("timestamp=1748772000", "timestamp=2025-06-01T10:00:30Z")
    posted = await world.client.post(
        "/api/osmand",
        content=form.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert posted.status_code == 200
    in_query = await world.client.post(
        f"/api/osmand?{OSMAND_QUERY.replace('1748772000', '1748772045')}"
    )
    assert in_query.status_code == 200
    as_object = await world.client.post(
        "/api/osmand", content=TRACCAR_JSON, headers={"Content-Type": "application/json"}
    )
    assert as_object.status_code == 200, as_object.text
    as_array = await world.client.post(
        "/api/osmand", content=TRACCAR_ARRAY, headers={"Content-Type": "application/json"}
    )
    assert as_array.status_code == 200, as_array.text
    fixes = await _reports(world, token)
    times = sorted(f["timestamp"] for f in fixes)
    # The JSON object's 10:00:00 is the query's fix again: same device, same time, stored once.
    assert times == [
        "2025-06-01T10:00:00Z",
        "2025-06-01T10:00:30Z",
        "2025-06-01T10:00:45Z",
        "2025-06-01T10:01:00Z",
        "2025-06-01T10:02:00Z",
        "2025-06-01T10:03:00Z",
    ]
    last = next(f for f in fixes if f["timestamp"] == "2025-06-01T10:03:00Z")
    assert (last["latitude"], last["longitude"]) == (52.25, 21.03)  # location=lat,lon; ms time


async def test_osmand_json_units_and_token_as_id(world: World) -> None:
    token = await new_user(world, "ola")
    device = await _device(world, token)  # no id of its own: its token is the OsmAnd id
    body = TRACCAR_JSON.replace(b'"48241179"', f'"{device["token"]}"'.encode())
    sent = await world.client.post(
        "/api/osmand", content=body, headers={"Content-Type": "application/json"}
    )
    assert sent.status_code == 200, sent.text
    (fix,) = await _reports(world, token)
    assert fix["speed"] == 5.5  # the 9.x JSON speaks m/s
    assert fix["heading"] is None  # -1: unknown
    assert fix["battery"] == pytest.approx(74)


async def test_osmand_refusals(world: World) -> None:
    token = await new_user(world, "ola")
    await _device(world, token, "48241179")
    unknown_query = await world.client.get("/api/osmand?id=999&lat=1&lon=2")
    assert unknown_query.status_code == 400
    unknown_json = await world.client.post(
        "/api/osmand",
        content=TRACCAR_JSON.replace(b"48241179", b"999"),
        headers={"Content-Type": "application/json"},
    )
    assert unknown_json.status_code == 404
    for query in (
        "id=48241179&lat=91&lon=2",
        "id=48241179&lat=abc&lon=2",
        "id=48241179&lat=nan&lon=2",
        "id=48241179&lon=2",
        "lat=1&lon=2",
        "id=48241179&lat=1&lon=2&timestamp=yesterday",
    ):
        refused = await world.client.get(f"/api/osmand?{query}")
        assert refused.status_code == 400, query
        assert refused.json()["detail"]
    assert await _reports(world, token) == []


async def test_late_and_out_of_order_fixes_are_kept(world: World) -> None:
    token = await new_user(world, "ola")
    await _device(world, token, "48241179")
    for stamp in (1748772300, 1748772000, 1748772600, 1748772000, 1748772100):
        sent = await world.client.get(f"/api/osmand?id=48241179&lat=1&lon=2&timestamp={stamp}")
        assert sent.status_code == 200
    assert len(await _reports(world, token)) == 4
    latest = (await world.client.get(f"{REPORTS}latest/", headers=bearer(token))).json()
    assert latest[0]["timestamp"] == "2025-06-01T10:10:00Z"


async def test_devices_and_participants(world: World) -> None:
    token = await new_user(world, "ola")
    first = await _device(world, token, "tracker-1")
    taken = await world.client.post(
        "/api/tracking/devices", json={"deviceId": "tracker-1"}, headers=bearer(token)
    )
    assert taken.status_code == 409  # a clash with what is stored, naming the field
    assert "deviceId" in taken.text
    assert first["deviceId"] == "tracker-1" and len(first["token"]) > 30
    path = f"/events/{world.ids['public']}/tracking/participants"
    added = await world.client.post(path, json={"username": "ola"}, headers=world.auth("organizer"))
    assert added.status_code == 201
    assert added.json()["userId"] == world.users["ola"].id
    twice = await world.client.post(path, json={"username": "ola"}, headers=world.auth("admin"))
    assert twice.status_code == 409
    nobody = await world.client.post(
        path, json={"username": "ghost"}, headers=world.auth("organizer")
    )
    assert nobody.status_code == 422


class TestOsmAndPort:
    """With ``tracking_osmand_port`` the protocol is also served at ``/`` on its own port."""

    @pytest.fixture
    def settings(self, tmp_path: Path, database_url: str | None) -> Settings:
        return test_settings(tmp_path / "data", database_url, tracking_osmand_port=free_port())

    async def test_the_port_takes_a_query_fix(self, world: World) -> None:
        token = await new_user(world, "ola")
        await _device(world, token, "48241179")
        port = world.platform.settings.tracking_osmand_port
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            sent = await http.get(f"/?{OSMAND_QUERY}")
            assert sent.status_code == 200 and sent.content == b""
            unknown = await http.post("/", data={"id": "nope", "lat": "1", "lon": "2"})
            assert unknown.status_code == 400
        (fix,) = await _reports(world, token)
        assert fix["timestamp"] == "2025-06-01T10:00:00Z" and fix["source"] == "osmand"
