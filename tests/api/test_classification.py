"""The official classification through the API: declare, correct, declare again, withdraw,
results as JSON, CSV and PDF, and a restart that replays the log into the same versions."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from tests.api.world import World
from trackside.events import ingest
from trackside.platform import Platform

FEED = [
    '$B,12,"Feature Race"',
    '$C,1,"GT"',
    '$C,2,"GTU"',
    '$A,"7","7",1,"Ann","Able","",1',
    '$A,"42","42",2,"Bo","Baker","",2',
    '$A,"9","9",3,"Cy","Cole","",1',
    '$F,9999,"00:10:00","10:00:00","00:00:00","Green "',
    '$G,1,"7",10,"00:15:00.000"',
    '$G,2,"42",10,"00:15:10.000"',
    '$G,3,"9",10,"00:15:20.000"',
    '$H,1,"7",4,"00:01:29.000"',
    '$H,2,"42",5,"00:01:30.000"',
    '$H,3,"9",6,"00:01:31.000"',
    '$F,0,"00:00:00","10:15:30","00:15:30","Finish"',
]


async def _race(world: World) -> tuple[int, str]:
    """The public event scored from ``FEED``: its id and the race's classification URL."""
    event = world.ids["public"]
    async with world.platform.db_factory() as db:
        await ingest.append(
            db,
            world.platform.event_locks,
            event,
            "rmonitor",
            [
                ingest.IncomingRecord(seq, 1_745_000_000_000 + seq, "rmonitor", line)
                for seq, line in enumerate(FEED, start=1)
            ],
        )
    processor = await world.platform.processors.record_arrived(event)
    session = processor.session_id_of(0)
    return event, f"/events/{event}/sessions/{session}/classification"


def _order(body: dict) -> list[str]:
    return [car["number"] for car in body["cars"]]


async def test_declare_correct_declare_again(world: World) -> None:
    event, url = await _race(world)
    client, official = world.client, world.auth("official")

    first = (await client.get(url)).json()  # a public event: no token
    assert (first["status"], first["revision"], first["declaredBy"]) == ("provisional", 0, None)
    assert _order(first) == ["7", "42", "9"]
    assert [c["class_position"] for c in first["cars"]] == [1, 1, 2]

    declared = await client.post(f"{url}/declare", headers=official)
    assert declared.status_code == 200, declared.text
    body = declared.json()
    assert (body["status"], body["revision"], body["declaredBy"]) == ("official", 1, "official")
    assert body["declaredAt"].endswith("Z")
    again = await client.post(f"{url}/declare", headers=official)
    assert again.status_code == 409 and "already official" in again.json()["detail"]

    penalty = await client.post(
        f"{url}/corrections",
        json={"car": "7", "kind": "time_penalty", "ms": 30000, "reason": "pit lane speeding"},
        headers=official,
    )
    assert penalty.status_code == 201, penalty.text
    assert penalty.json()["kind"] == "time_penalty" and penalty.json()["by"] == "official"
    corrected = (await client.get(url)).json()
    assert (corrected["status"], corrected["revision"]) == ("provisional", 1)
    assert _order(corrected) == ["42", "9", "7"]
    seven = corrected["cars"][2]
    assert (seven["total_time_ms"], seven["penalty_ms"], seven["position"]) == (930000, 30000, 3)
    assert corrected["cars"][1]["gap_ms"] == 10000  # 9 behind 42
    assert (seven["gap_ms"], seven["difference_ms"]) == (10000, 20000)

    dsq = await client.post(
        f"{url}/corrections",
        json={"car": "42", "kind": "disqualify", "reason": "underweight"},
        headers=world.auth("organizer"),
    )
    assert dsq.status_code == 201
    moved = await client.post(
        f"{url}/corrections",
        json={"car": "9", "kind": "class", "class": "GTU", "reason": "wrong entry"},
        headers=official,
    )
    assert moved.status_code == 201
    now = (await client.get(url)).json()
    assert _order(now) == ["9", "7", "42"]
    assert now["cars"][2]["status"] == "DSQ" and now["cars"][2]["position"] is None
    assert [(c["class"], c["class_position"]) for c in now["cars"][:2]] == [("GTU", 1), ("GT", 1)]

    second = (await client.post(f"{url}/declare", headers=official)).json()
    assert (second["status"], second["revision"]) == ("official", 2)
    assert [c["id"] for c in second["corrections"]] == [
        penalty.json()["id"],
        dsq.json()["id"],
        moved.json()["id"],
    ]

    withdrawn = await client.delete(f"{url}/corrections/{dsq.json()['id']}", headers=official)
    assert withdrawn.status_code == 204
    gone = await client.delete(f"{url}/corrections/{dsq.json()['id']}", headers=official)
    assert gone.status_code == 404
    after = (await client.get(url)).json()
    assert (after["status"], after["revision"]) == ("provisional", 2)
    assert _order(after) == ["42", "9", "7"]
    assert [c["withdrawn"] is not None for c in after["corrections"]] == [False, True, False]

    versions = (await client.get(f"{url}/versions")).json()["versions"]
    assert [v["revision"] for v in versions] == [1, 2]
    assert _order(versions[0]) == ["7", "42", "9"] and versions[0]["corrections"] == []
    assert _order(versions[1]) == ["9", "7", "42"]

    live = (await client.get(f"/events/{event}/live")).json()
    assert live["sessions"][0]["classification"] == {"status": "provisional", "revision": 2}


async def test_corrections_name_what_is_wrong(world: World) -> None:
    _, url = await _race(world)
    official = world.auth("official")
    cases = [
        ({"car": "7", "kind": "laps", "laps": -1}, "reason"),
        ({"car": "7", "kind": "laps", "laps": -1, "reason": "  "}, "reason"),
        ({"car": "7", "kind": "laps", "reason": "cut"}, "laps"),
        ({"car": "7", "kind": "time_penalty", "reason": "cut"}, "ms"),
        ({"car": "7", "kind": "class", "reason": "cut"}, "class"),
        ({"car": "77", "kind": "exclude", "reason": "cut"}, "car"),
        ({"car": "7", "kind": "warp", "reason": "cut"}, "kind"),
    ]
    for body, field in cases:
        reply = await world.client.post(f"{url}/corrections", json=body, headers=official)
        assert reply.status_code == 422, (body, reply.text)
        assert field in {e["field"] for e in reply.json()["errors"]}, reply.json()
    assert (await world.client.get(url)).json()["corrections"] == []
    missing = url.replace("/sessions/", "/sessions/9999").rsplit("/", 1)[0] + "/classification"
    assert (await world.client.get(missing)).status_code == 404
    untimed = f"/events/{world.ids['public']}/sessions/{world.ids['race']}/classification"
    reply = await world.client.post(f"{untimed}/declare", headers=official)
    assert reply.status_code == 404 and "no timing results" in reply.json()["detail"]


async def test_results_reflect_corrections_as_json_csv_and_pdf(world: World) -> None:
    _, url = await _race(world)
    results = url.replace("/classification", "/results")
    official = world.auth("official")
    await world.client.post(
        f"{url}/corrections",
        json={"car": "9", "kind": "exclude", "reason": "technical infringement"},
        headers=official,
    )
    await world.client.post(
        f"{url}/corrections",
        json={"car": "7", "kind": "laps", "laps": -1, "reason": "short cut"},
        headers=official,
    )
    await world.client.post(f"{url}/declare", headers=official)

    as_json = (await world.client.get(results)).json()
    assert [c["number"] for c in as_json["cars"]] == ["42", "7", "9"]
    assert as_json["classification"]["status"] == "official"
    assert as_json["cars"][1]["laps"] == 9 and as_json["cars"][2]["status"] == "EXCL"
    as_csv = (await world.client.get(results, params={"format": "csv"})).text.splitlines()
    assert as_csv[3].split(",")[:2] == ["", "9"] and "EXCL" in as_csv[3]

    pdf = await world.client.get(results, params={"format": "pdf"})
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Summer Enduro" in text and "Feature Race" in text
    assert "revision 1" in text and "Official" in text
    for name in ("Ann Able", "Bo Baker", "Cy Cole"):
        assert name in text
    assert "technical infringement" in text and "short cut" in text
    assert "Declared" in text and "by official" in text
    assert "green" in text  # the flag periods
    accepted = await world.client.get(results, headers={"Accept": "application/pdf"})
    assert accepted.content.startswith(b"%PDF")


async def test_a_restart_replays_the_same_versions(world: World) -> None:
    event, url = await _race(world)
    official = world.auth("official")
    await world.client.post(f"{url}/declare", headers=official)
    fix = await world.client.post(
        f"{url}/corrections",
        json={"car": "42", "kind": "time_penalty", "ms": 15000, "reason": "jump start"},
        headers=official,
    )
    await world.client.post(f"{url}/declare", headers=official)
    await world.client.delete(f"{url}/corrections/{fix.json()['id']}", headers=official)
    before = (await world.client.get(url)).json()
    versions = (await world.client.get(f"{url}/versions")).json()

    restarted = await Platform.start(world.platform.settings)
    try:
        session_id = int(url.split("/")[4])
        async with restarted.db_factory() as db:
            event_row = await restarted.processors.get(event)  # replays the whole log
            assert event_row.classification.decisions.of(0).revision == 2
            from trackside.events import service as events

            row = await events.get_event(db, event)
            assert await restarted.classification.versions(db, row, session_id) == versions
            assert await restarted.classification.view(db, row, session_id) == before
    finally:
        await restarted.close()


@pytest.mark.parametrize("who", ["viewer", "client_partner", "other_organizer"])
async def test_only_officials_and_organizers_decide(world: World, who: str) -> None:
    _, url = await _race(world)
    for method, path, body in (
        ("POST", f"{url}/declare", None),
        ("POST", f"{url}/corrections", {"car": "7", "kind": "exclude", "reason": "x"}),
        ("DELETE", f"{url}/corrections/1", None),
    ):
        reply = await world.client.request(method, path, json=body, headers=world.auth(who))
        assert reply.status_code == 403, reply.text
    assert (await world.client.get(url)).json()["revision"] == 0


async def test_a_relay_cannot_make_decisions(world: World) -> None:
    """Decisions come only from the server: a relay's decision record is refused under any
    source (naming the field), and so is any record under the server's own sources."""
    event, url = await _race(world)
    forged = '{"action": "declare", "id": 1, "session": 0, "by": "mallory", "at_ms": 1}'
    relay = world.auth("client_relay")
    for source, kind, field in (
        ("classification", "rmonitor", "source"),
        ("rmonitor", "classification", "type"),
        ("judge:1", "rmonitor", "source"),
    ):
        reply = await world.client.post(
            f"/relay/events/{event}/records",
            json={"source": source, "records": [
                {"seq": len(FEED) + 1, "received_at": 1, "type": kind, "data": forged}
            ]},
            headers=relay,
        )  # fmt: skip
        assert reply.status_code == 422, reply.text
        assert field in reply.text
    assert (await world.client.get(url)).json()["revision"] == 0
    diagnostics = await world.client.get(f"/events/{event}/diagnostics", headers=relay)
    assert diagnostics.json()["recordsByType"].get("classification", 0) == 0


async def test_a_relay_cannot_send_the_servers_record_types(world: World) -> None:
    """A judge's time, a race-control ruling, a GPS crossing or an import pass the server's
    own checks first: from a relay each is refused (422 naming the record's type)."""
    event, _ = await _race(world)
    for kind in ("judge", "controllog", "checkpoint", "iracing", "classification"):
        reply = await world.client.post(
            f"/relay/events/{event}/records",
            json={"source": "rmonitor", "records": [
                {"seq": len(FEED) + 1, "received_at": 1, "type": kind, "data": "{}"}
            ]},
            headers=world.auth("client_relay"),
        )  # fmt: skip
        assert reply.status_code == 422, reply.text
        assert "type" in reply.text and "only by the server" in reply.text
