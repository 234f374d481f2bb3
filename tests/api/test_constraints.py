"""Constraint violations are the client's clash: 409 naming the field, never a 500."""

from __future__ import annotations

from tests.api.world import World


async def test_patching_an_entry_onto_a_taken_number_is_a_409_naming_it(world: World) -> None:
    """Found by schemathesis: with ``classId`` set, the class lookup flushed the clash early."""
    event, race_class = world.ids["public"], world.ids["race_class"]
    auth = world.auth("official")
    other = await world.client.post(
        f"/events/{event}/entries",
        json={"number": "0", "driverName": "D", "classId": race_class},
        headers=auth,
    )
    assert other.status_code == 201, other.text
    for body in ({"classId": race_class, "number": "0"}, {"number": "0"}):
        response = await world.client.patch(
            f"/events/{event}/entries/{world.ids['entry']}", json=body, headers=auth
        )
        assert response.status_code == 409, response.text
        assert [e["field"] for e in response.json()["errors"]] == ["number"]
    unchanged = await world.client.get(
        f"/events/{event}/entries/{world.ids['entry']}", headers=auth
    )
    assert unchanged.json()["number"] == "7", unchanged.text


async def test_taken_names_name_the_field(world: World) -> None:
    event = world.ids["public"]
    response = await world.client.post(
        f"/events/{event}/classes", json={"name": "GT"}, headers=world.auth("official")
    )
    assert response.status_code == 409, response.text
    assert response.json()["errors"][0]["field"] == "name"
