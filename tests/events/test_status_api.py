"""The Status API as the live-timing reference defines it: fields, ISO 8601 times, 404s, pages."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.api.world import World

EVENT_FIELDS = {"id", "name", "startDate", "endDate", "location", "organizationId", "visibility"}
SESSION_FIELDS = {"id", "eventId", "name", "startTime", "endTime", "type"}
ORGANIZATION_FIELDS = {"id", "name", "description", "createdDate"}


def _instant(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    assert parsed.tzinfo is not None, f"{value} has no zone"
    return parsed


async def test_events_list_shows_public_events_to_everyone(world: World) -> None:
    response = await world.client.get("/events", headers=world.auth("viewer"))
    assert response.status_code == 200
    events = response.json()
    assert [e["name"] for e in events] == ["Summer Enduro"]
    event = events[0]
    assert set(event) == EVENT_FIELDS
    assert event["id"] == world.ids["public"]
    assert _instant(event["startDate"]) == datetime(2025, 6, 1, 9, tzinfo=UTC)
    assert event["location"] == "Road Atlanta"
    assert response.headers["x-total-count"] == "1"


async def test_private_events_are_listed_for_their_organizers(world: World) -> None:
    organizer = await world.client.get("/events", headers=world.auth("organizer"))
    assert [e["name"] for e in organizer.json()] == ["Summer Enduro", "Test Day"]
    other = await world.client.get("/events", headers=world.auth("other_organizer"))
    assert [e["name"] for e in other.json()] == ["Summer Enduro"]


async def test_event_by_id_and_missing_id(world: World) -> None:
    found = await world.client.get(f"/events/{world.ids['public']}", headers=world.auth("viewer"))
    assert found.status_code == 200
    assert found.json()["name"] == "Summer Enduro"
    missing = await world.client.get("/events/99999", headers=world.auth("viewer"))
    assert missing.status_code == 404
    assert "99999" in missing.json()["detail"]
    sessions = await world.client.get("/events/99999/sessions", headers=world.auth("viewer"))
    assert sessions.status_code == 404


async def test_sessions_of_an_event(world: World) -> None:
    response = await world.client.get(
        f"/events/{world.ids['public']}/sessions", headers=world.auth("client_partner")
    )
    assert response.status_code == 200
    (session,) = response.json()
    assert set(session) == SESSION_FIELDS
    assert session["eventId"] == world.ids["public"]
    assert session["type"] == "race"
    assert _instant(session["startTime"]) == datetime(2025, 6, 2, 13, tzinfo=UTC)
    assert session["endTime"] is None


async def test_organizations(world: World) -> None:
    listed = await world.client.get("/organization", headers=world.auth("viewer"))
    assert listed.status_code == 200
    assert [o["name"] for o in listed.json()] == ["Club A", "Club B"]
    assert all(set(o) == ORGANIZATION_FIELDS for o in listed.json())
    one = await world.client.get(
        f"/organization/{world.ids['org_a']}", headers=world.auth("viewer")
    )
    assert one.json()["description"] == "runs A"
    _instant(one.json()["createdDate"])
    missing = await world.client.get("/organization/4242", headers=world.auth("viewer"))
    assert missing.status_code == 404


async def test_organizer_creates_an_event_and_reads_it_back(world: World) -> None:
    body = {
        "name": "Night Race",
        "startDate": "2025-08-09T20:00:00+02:00",
        "endDate": "2025-08-10T02:00:00+02:00",
        "location": "Spa",
        "organizationId": world.ids["org_a"],
    }
    created = await world.client.post("/events", json=body, headers=world.auth("organizer"))
    assert created.status_code == 201, created.text
    event = created.json()
    assert isinstance(event["id"], int)
    assert event["startDate"].endswith("Z")  # stored and served in UTC
    assert _instant(event["startDate"]) == _instant(body["startDate"])
    assert event["visibility"] == "public"
    fetched = await world.client.get(f"/events/{event['id']}", headers=world.auth("viewer"))
    assert fetched.json() == event


async def test_lists_are_paged(world: World) -> None:
    for day in range(10, 15):
        body = {
            "name": f"Club race {day}",
            "startDate": f"2025-07-{day}T09:00:00Z",
            "endDate": f"2025-07-{day}T17:00:00Z",
            "organizationId": world.ids["org_b"],
        }
        response = await world.client.post(
            "/events", json=body, headers=world.auth("other_organizer")
        )
        assert response.status_code == 201
    first = await world.client.get("/events?limit=2", headers=world.auth("viewer"))
    assert first.headers["x-total-count"] == "6"
    assert [e["name"] for e in first.json()] == ["Summer Enduro", "Club race 10"]
    assert 'rel="next"' in first.headers["link"]
    last = await world.client.get("/events?limit=2&offset=4", headers=world.auth("viewer"))
    assert [e["name"] for e in last.json()] == ["Club race 13", "Club race 14"]
    assert 'rel="next"' not in last.headers["link"]
    beyond = await world.client.get("/events?offset=50", headers=world.auth("viewer"))
    assert beyond.json() == []
    bad = await world.client.get("/events?limit=0", headers=world.auth("viewer"))
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "limit"


async def test_event_dates_must_be_in_order(world: World) -> None:
    path = f"/events/{world.ids['public']}"
    response = await world.client.patch(
        path, json={"endDate": "2025-05-01T00:00:00Z"}, headers=world.auth("organizer")
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "endDate"
    unchanged = await world.client.get(path, headers=world.auth("viewer"))
    assert unchanged.json()["endDate"] == "2025-06-02T18:00:00Z"


async def test_moving_an_event_needs_organizer_rights_on_both_sides(world: World) -> None:
    path = f"/events/{world.ids['public']}"
    body = {"organizationId": world.ids["org_b"]}
    refused = await world.client.patch(path, json=body, headers=world.auth("organizer"))
    assert refused.status_code == 403
    moved = await world.client.patch(path, json=body, headers=world.auth("admin"))
    assert moved.json()["organizationId"] == world.ids["org_b"]


async def test_deleting_an_event_removes_what_it_holds(world: World) -> None:
    event = world.ids["public"]
    gone = await world.client.delete(f"/events/{event}", headers=world.auth("organizer"))
    assert gone.status_code == 204
    for path in (f"/events/{event}", f"/events/{event}/sessions", f"/events/{event}/entries"):
        response = await world.client.get(path, headers=world.auth("admin"))
        assert response.status_code == 404


async def test_an_organization_with_events_cannot_be_deleted(world: World) -> None:
    response = await world.client.delete(
        f"/organization/{world.ids['org_a']}", headers=world.auth("admin")
    )
    assert response.status_code == 409
    assert "events" in response.json()["detail"]


async def test_entries_and_classes_belong_to_their_event(world: World) -> None:
    public, private = world.ids["public"], world.ids["private"]
    other_class = await world.client.post(
        f"/events/{private}/classes", json={"name": "GT"}, headers=world.auth("organizer")
    )
    assert other_class.status_code == 201
    wrong = await world.client.post(
        f"/events/{public}/entries",
        json={"number": "8", "driverName": "Cy", "classId": other_class.json()["id"]},
        headers=world.auth("organizer"),
    )
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "classId"
    twice = await world.client.post(
        f"/events/{public}/entries",
        json={"number": "7", "driverName": "Someone Else"},
        headers=world.auth("organizer"),
    )
    assert twice.status_code == 409
    elsewhere = await world.client.get(
        f"/events/{private}/entries/{world.ids['entry']}", headers=world.auth("organizer")
    )
    assert elsewhere.status_code == 404
    entries = await world.client.get(f"/events/{public}/entries", headers=world.auth("viewer"))
    assert entries.json() == [
        {
            "id": world.ids["entry"],
            "eventId": public,
            "number": "7",
            "driverName": "Ana Diaz",
            "teamName": "Diaz Racing",
            "classId": world.ids["race_class"],
            "transponder": "1234567",
        }
    ]


async def test_session_type_is_one_of_three(world: World) -> None:
    path = f"/events/{world.ids['public']}/sessions"
    ok = await world.client.post(
        path,
        json={"name": "Quali", "type": "Qualifying", "startTime": "2025-06-01T12:00:00Z"},
        headers=world.auth("official"),
    )
    assert ok.json()["type"] == "qualifying"
    bad = await world.client.post(
        path,
        json={"name": "Odd", "type": "parade", "startTime": "2025-06-01T12:00:00Z"},
        headers=world.auth("official"),
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "type"
