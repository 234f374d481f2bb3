"""Loops and the race-control log through the API: configured, relayed, scored, read back."""

from __future__ import annotations

import httpx
import pytest

from tests.api.world import World
from tests.conftest import DATA
from tests.events.livefeed import capture_lines, post_lines
from tests.events.test_live import RACE_DAY
from trackside.api.app import create_app
from trackside.feeds.p3 import encode_passing
from trackside.feeds.p3_records import P3Passing

AMB = DATA / "p3" / "amb.out"
AMB_DECODER = 0x00041813
PIT_IN, PIT_OUT = 0x0A01, 0x0A02
PIT_LOOPS = {
    "loops": [
        {"name": "Pit In", "kind": "pit_in", "decoderId": f"0x{PIT_IN:x}"},
        {"name": "Pit Out", "kind": "pit_out", "decoderId": PIT_OUT},
    ]
}


async def post_records(
    world: World, event: int, source: str, kind: str, datas: list[str], first_seq: int = 1
) -> dict:
    reply: dict = {}
    for start in range(0, len(datas), 500):
        body = {
            "source": source,
            "records": [
                {
                    "seq": first_seq + i,
                    "received_at": 1_745_000_100_000 + i,
                    "type": kind,
                    "data": d,
                }
                for i, d in enumerate(datas[start : start + 500], start=start)
            ],
        }
        response = await world.client.post(
            f"/relay/events/{event}/records", json=body, headers=world.auth("client_relay")
        )
        assert response.status_code == 200, response.text
        reply = response.json()
    return reply


def frame(number: int, time_ms: int, transponder: int, decoder: int) -> str:
    passing = P3Passing(number, time_ms * 1000, transponder=transponder, decoder_id=decoder)
    return encode_passing(passing).hex()


async def live_cars(world: World, event: int, index: int = 0) -> dict[str, dict]:
    live = (await world.client.get(f"/events/{event}/live")).json()
    return {car["number"]: car for car in live["sessions"][index]["cars"]}


async def put(world: World, path: str, body: dict, who: str = "official") -> httpx.Response:
    return await world.client.put(path, json=body, headers=world.auth(who))


# ---------------------------------------------------------------------------- loops


async def test_pit_loops_configured_after_the_passings_rescore_the_event(world: World) -> None:
    event = world.ids["public"]
    await post_lines(world.client, world.tokens["client_relay"], event, capture_lines(*RACE_DAY))
    # Car 70 (transponder 58488, from its $A) goes through the pit lane; the decoders' frames
    # arrive before anyone has said which decoder is which loop.
    frames = [frame(1, 1_000, 58488, PIT_IN), frame(2, 47_250, 58488, PIT_OUT)]
    await post_records(world, event, "p3", "p3", [*frames, "8e02zz", "8e021f00"])
    car = (await live_cars(world, event))["70"]
    assert (car["pit_stops"], car["last_loop"]) == (0, "")
    diag = (
        await world.client.get(f"/events/{event}/diagnostics", headers=world.auth("official"))
    ).json()
    assert diag["p3Frames"] == {"passing": 2, "bad": 2}
    assert diag["loops"]["unknownLoop"] == 2
    assert [s["reason"].split(":")[0] for s in diag["samples"][-2:]] == ["P3 frame"] * 2

    put_reply = await put(world, f"/events/{event}/loops", PIT_LOOPS)
    assert put_reply.status_code == 200, put_reply.text
    assert [(loop["name"], loop["decoderId"]) for loop in put_reply.json()["loops"]] == [
        ("Pit In", PIT_IN),
        ("Pit Out", PIT_OUT),
    ]
    car = (await live_cars(world, event))["70"]
    assert (car["pit_stops"], car["last_pit_time_ms"], car["exited_pit"]) == (1, 46_250, True)
    assert car["last_loop"] == "Pit Out" and not car["in_pit"]
    # Standings are RMonitor's still: the loops add fields, never order or laps.
    assert [c["number"] for c in (await live_cars(world, event)).values()][:3] == ["2", "70", "11"]
    read = await world.client.get(f"/events/{event}/loops", headers=world.auth("viewer"))
    assert read.json() == {"eventId": event, "loops": put_reply.json()["loops"]}
    # A restarted server (same database) scores the same from the log and the stored loops.
    before = (await world.client.get(f"/events/{event}/live")).json()["sessions"]
    await _same_after_restart(world, event, before)


async def _same_after_restart(world: World, event: int, sessions: list[dict]) -> None:
    again = create_app(world.platform.settings)
    async with again.router.lifespan_context(again):
        transport = httpx.ASGITransport(app=again)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            after = (await client.get(f"/events/{event}/live")).json()
    assert after["sessions"] == sessions


async def test_a_decoder_alone_scores_laps_and_entries_name_the_karts(world: World) -> None:
    event = world.ids["public"]
    await put(
        world,
        f"/events/{event}/loops",
        {"loops": [{"name": "Finish", "kind": "start_finish", "decoderId": AMB_DECODER}]},
    )
    await post_records(world, event, "p3", "p3", AMB.read_text().split())
    cars = await live_cars(world, event)
    assert [(c["number"], c["laps"]) for c in cars.values()] == [
        ("Tx3438895", 29),
        ("Tx5691251", 26),
        ("Tx3292480", 25),
    ]
    # Entry 7 gets kart 7's transponder: the event is re-scored and the kart has its name.
    entry = world.ids["entry"]
    patched = await world.client.patch(
        f"/events/{event}/entries/{entry}",
        json={"transponder": "5691251"},
        headers=world.auth("official"),
    )
    assert patched.status_code == 200
    cars = await live_cars(world, event)
    assert cars["7"]["laps"] == 26 and cars["7"]["last_name"] == "Ana Diaz"
    assert cars["7"]["class"] == "GT" and cars["7"]["last_loop"] == "Finish"
    live = (await world.client.get(f"/events/{event}/live")).json()
    assert live["sessions"][0]["name"] == "Passings"


@pytest.mark.parametrize(
    ("loops", "field"),
    [
        (
            [
                {"name": "SF", "kind": "start_finish", "decoderId": 1},
                {"name": "sf", "kind": "sector", "decoderId": 2},
            ],
            "loops.1.name",
        ),
        (
            [
                {"name": "A", "kind": "pit_in", "decoderId": 1, "loopId": 3},
                {"name": "B", "kind": "pit_out", "decoderId": "1", "loopId": 3},
            ],
            "loops.1.decoderId",
        ),
        ([{"name": "A", "kind": "chicane", "decoderId": 1}], "loops.0.kind"),
        ([{"name": "A", "kind": "sector", "decoderId": "0xZZ"}], "loops.0.decoderId"),
        ([{"name": "A", "kind": "sector", "decoderId": 2**32}], "loops.0.decoderId"),
        ([{"name": " ", "kind": "sector", "decoderId": 1}], "loops.0.name"),
        ([{"name": "A", "kind": "sector", "decoderId": 1, "loop": 2}], "loops.0.loop"),
    ],
)
async def test_bad_loops_are_refused_naming_the_field(
    world: World, loops: list[dict], field: str
) -> None:
    event = world.ids["public"]
    kept = await put(world, f"/events/{event}/loops", PIT_LOOPS)
    assert kept.status_code == 200
    refused = await put(world, f"/events/{event}/loops", {"loops": loops})
    assert refused.status_code == 422, refused.text
    assert field in {error["field"] for error in refused.json()["errors"]}
    assert field in refused.json()["detail"]
    # Nothing half-written: the loops are still the ones before.
    read = await world.client.get(f"/events/{event}/loops", headers=world.auth("viewer"))
    assert read.json()["loops"] == kept.json()["loops"]


# ---------------------------------------------------------------------------- control log

LOG = """\
Race Control Log - Saturday 8 Hour
Time,Car #,Car #,Corner,Description,Penalty,Status
09:01:10,70,,T5,Off track,Warning,Closed
09:02:00,2,11,T1,Contact,1 lap,Penalty
09:03:30,11,,Pit,Pit speeding,Drive through,Penalty
09:04:00,999,,T8,Spin,,Open
9.61 am,74,,T3,Track limits,Warning,Open
"""


async def upload(world: World, event: int, text: str, who: str = "official") -> httpx.Response:
    headers = {**world.auth(who), "Content-Type": "text/csv"}
    return await world.client.post(f"/events/{event}/control-log", content=text, headers=headers)


async def test_control_log_upload_scores_penalties_and_reports_bad_rows(world: World) -> None:
    event = world.ids["public"]
    await post_lines(world.client, world.tokens["client_relay"], event, capture_lines(*RACE_DAY))
    reply = await upload(world, event, LOG)
    assert reply.status_code == 200, reply.text
    assert reply.json() == {
        "rows": 5,
        "new": 5,
        "changed": 0,
        "removed": 0,
        "badRows": 1,
        "appended": 5,
        "ackedSeq": 5,
    }
    cars = await live_cars(world, event)
    # Car 2 led on 3 laps; a penalty lap drops it behind every car on 3 laps.
    assert (cars["2"]["penalty_laps"], cars["2"]["laps"], cars["2"]["laps_completed"]) == (1, 2, 3)
    assert cars["2"]["position"] > cars["70"]["position"] == 1
    assert (cars["70"]["warnings"], cars["11"]["black_flags"]) == (1, 1)

    log = (await world.client.get(f"/events/{event}/control-log")).json()  # public: no token
    assert [e["key"] for e in log["entries"]] == ["row:3", "row:4", "row:5", "row:6"]
    contact = log["entries"][1]
    assert contact["cars"] == ["2", "11"] and contact["time"] == "09:02:00"
    assert contact["outcome"] == {"kind": "laps", "laps": 1} and contact["session"] == 0
    assert contact["extra"] == {} and contact["superseded"] == []
    assert log["cars"] == [
        {"car": "70", "warnings": 1, "penaltyLaps": 0, "blackFlags": 0, "entries": ["row:3"]},
        {"car": "2", "warnings": 0, "penaltyLaps": 1, "blackFlags": 0, "entries": ["row:4"]},
        {"car": "11", "warnings": 0, "penaltyLaps": 0, "blackFlags": 1, "entries": ["row:5"]},
    ]
    bad = {row["key"]: row for row in log["badRows"]}
    assert bad["row:6"]["reason"] == "unknown car 999" and bad["row:6"]["cars"] == ["999"]
    assert bad["row:7"]["reason"].startswith("unreadable time") and bad["row:7"]["cells"][1] == "74"

    # Race control fixes the time, rescinds the lap and deletes the spin; sent as a form upload.
    edited = (
        LOG.replace("9.61 am", "09:06:01")
        .replace("Contact,1 lap,Penalty", "Contact,1 lap,Rescinded")
        .replace("09:04:00,999,,T8,Spin,,Open\n", "")
    )
    form = await world.client.post(
        f"/events/{event}/control-log",
        files={"file": ("log.csv", edited.encode(), "text/csv")},
        headers=world.auth("organizer"),
    )
    assert form.status_code == 200, form.text
    assert {k: form.json()[k] for k in ("new", "changed", "removed", "ackedSeq")} == {
        "new": 0,
        "changed": 2,  # the contact; row 6 now holds the fixed row (no id column: rows move)
        "removed": 1,
        "ackedSeq": 8,
    }
    log = (await world.client.get(f"/events/{event}/control-log")).json()
    contact = next(e for e in log["entries"] if e["description"] == "Contact")
    assert contact["outcome"] == {"kind": "none", "laps": 0}
    assert [r["status"] for r in contact["superseded"]] == ["Penalty"]
    assert [r["key"] for r in log["removed"]] == ["row:7"]
    assert log["badRows"] == [] and log["records"] == 8
    cars = await live_cars(world, event)
    assert (cars["2"]["penalty_laps"], cars["2"]["position"], cars["74"]["warnings"]) == (0, 1, 1)
    race = next(
        s
        for s in (
            await world.client.get(f"/events/{event}/sessions", headers=world.auth("viewer"))
        ).json()
        if s["name"] == "Saturday 8 Hour"
    )
    csv_lines = (
        await world.client.get(f"/events/{event}/sessions/{race['id']}/results?format=csv")
    ).text.splitlines()
    assert "Stale,Penalty laps,Warnings,Black flags,Pit stops," in csv_lines[0]
    assert ",0,1,0,0," in next(line for line in csv_lines if line.split(",")[1] == "74")
    # The same upload again adds nothing.
    again = await upload(world, event, edited)
    assert again.json()["appended"] == 0
    diag = (
        await world.client.get(f"/events/{event}/diagnostics", headers=world.auth("official"))
    ).json()
    assert {s["source"]: s["ackedSeq"] for s in diag["sources"]}["controllog"] == 8
    assert diag["recordsByType"]["controllog"] == 8
    await _same_after_restart(
        world, event, (await world.client.get(f"/events/{event}/live")).json()["sessions"]
    )


async def test_an_unreadable_log_is_kept_as_a_bad_row(world: World) -> None:
    event = world.ids["public"]
    reply = await upload(world, event, "Zeit;Auto\n10:00;7\n")
    assert reply.status_code == 200 and reply.json()["badRows"] == 1
    log = (await world.client.get(f"/events/{event}/control-log")).json()
    (bad,) = log["badRows"]
    assert bad["key"] == "header" and "no header with a time column" in bad["reason"]
    # Read with the series' own column names, the same sheet is a log.
    source = await put(
        world,
        f"/events/{event}/control-log/source",
        {"url": None, "columns": {"time": "Zeit", "cars": "Auto"}},
    )
    assert source.status_code == 200, source.text
    assert (await upload(world, event, "Zeit;Auto;Strafe\n10:00;7;Warning\n")).json()["new"] == 1
    log = (await world.client.get(f"/events/{event}/control-log")).json()
    assert [e["cars"] for e in log["entries"]] == [["7"]]


async def test_series_rules_decide_what_a_penalty_is(world: World) -> None:
    event = world.ids["public"]
    rules = {
        "url": None,
        "penaltyRules": [
            {"pattern": r"\bDT\b", "outcome": "black_flag"},
            {"pattern": r"stop.?go", "outcome": "laps:2"},
            {"pattern": "reprimand", "outcome": "warning"},
        ],
        "voidStatuses": ["Appealed"],
    }
    assert (await put(world, f"/events/{event}/control-log/source", rules)).status_code == 200
    text = (
        "Time,Car,Penalty,Status\n10:00,7,DT,Open\n10:05,7,Stop-Go,Open\n"
        "10:06,7,Reprimand,Open\n10:07,7,Reprimand,Appealed\n10:08,7,Warning,Open\n"
    )
    await upload(world, event, text)
    log = (await world.client.get(f"/events/{event}/control-log")).json()
    assert log["cars"] == [
        {
            "car": "7",
            "warnings": 1,
            "penaltyLaps": 2,
            "blackFlags": 1,
            "entries": ["row:2", "row:3", "row:4"],
        }
    ]
    stored = await world.client.get(
        f"/events/{event}/control-log/source", headers=world.auth("official")
    )
    assert stored.json()["penaltyRules"] == rules["penaltyRules"]
    assert stored.json()["voidStatuses"] == ["Appealed"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": None, "penaltyRules": [{"pattern": "(", "outcome": "warning"}]}, "pattern"),
        # Backtracking-only constructs: RE2 runs in linear time, so it refuses them.
        ({"url": None, "penaltyRules": [{"pattern": r"(a+)\1", "outcome": "warning"}]}, "pattern"),
        ({"url": None, "penaltyRules": [{"pattern": "x(?=y)", "outcome": "warning"}]}, "pattern"),
        ({"url": None, "penaltyRules": [{"pattern": "x", "outcome": "fine"}]}, "outcome"),
        ({"url": None, "penaltyRules": [{"pattern": "x", "outcome": "laps:two"}]}, "outcome"),
        ({"url": None, "columns": {"zone": "Corner"}}, "columns.zone"),
        ({"url": None, "columns": {"cars": []}}, "columns.cars"),
        ({"url": "ftp://example.org/log.csv"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"url": None, "intervalS": 0}, "intervalS"),
    ],
)
async def test_bad_sources_are_refused_naming_the_field(
    world: World, body: dict, field: str
) -> None:
    event = world.ids["public"]
    path = f"/events/{event}/control-log/source"
    before = (await world.client.get(path, headers=world.auth("official"))).json()
    refused = await put(world, path, body)
    assert refused.status_code == 422, refused.text
    assert any(field in error["field"] for error in refused.json()["errors"]), refused.json()
    after = (await world.client.get(path, headers=world.auth("official"))).json()
    assert after == before


async def test_bad_uploads_are_refused(world: World) -> None:
    event = world.ids["public"]
    path = f"/events/{event}/control-log"
    as_json = await world.client.post(path, json={"csv": "x"}, headers=world.auth("official"))
    assert as_json.status_code == 415 and "text/csv" in as_json.json()["detail"]
    empty = await upload(world, event, "  \n")
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "body"
    no_file = await world.client.post(
        path, files={"log": ("log.csv", b"Time\n")}, headers=world.auth("official")
    )
    assert no_file.status_code == 422 and no_file.json()["errors"][0]["field"] == "file"
    log = (await world.client.get(path)).json()
    assert log["records"] == 0
    missing = await world.client.delete(
        f"/events/{world.ids['private']}/control-log/source", headers=world.auth("organizer")
    )
    assert missing.status_code == 404
