"""GPS timing end to end: synthetic tracks sent by the trackers' protocols become checkpoint
records in the event log, and the splits read from the log are the truth within a second."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
from typer.testing import CliRunner

from tests.api.world import World
from tests.timing.test_checkpoints import FINISH, HILL, START, track
from tests.tracking.helpers import bearer, new_user, tracked
from trackside.cli import app
from trackside.events import ingest

BASE_S = 1_748_772_000  # 2025-06-01 10:00 UTC, during the world's public event


def _course() -> dict:
    return {
        "checkpoints": [
            {"name": "Start", "kind": "line", "points": [list(START.a), list(START.b)]},
            {"name": "Hill", "kind": "circle", "center": list(HILL.center), "radiusM": 50},
            {"name": "Finish", "kind": "line", "points": [list(FINISH.a), list(FINISH.b)]},
        ]
    }


async def test_tracks_become_checkpoint_records_and_splits(world: World, tmp_path: Path) -> None:
    event = world.ids["public"]
    put = await world.client.put(
        f"/events/{event}/tracking/checkpoints", json=_course(), headers=world.auth("organizer")
    )
    assert put.status_code == 200
    tokens = {name: await tracked(world, event, name) for name in ("ana", "ben")}
    made = await world.client.post(
        "/api/tracking/devices", json={"deviceId": "ana-phone"}, headers=bearer(tokens["ana"])
    )
    assert made.status_code == 201

    # Ana's phone was offline: it uploads its buffered track in bursts (JSON array form).
    ana = track(5.0, 0, 7, 230, wobble_m=3)
    for start in range(0, len(ana), 8):
        burst = [
            {"id": "ana-phone", "lat": p.lat, "lon": p.lon, "timestamp": BASE_S + p.time_ms / 1000}
            for p in ana[start : start + 8]
        ]
        sent = await world.client.post(
            "/api/osmand", content=orjson.dumps(burst), headers={"Content-Type": "application/json"}
        )
        assert sent.status_code == 200, sent.text
    # Ben's app reports fix by fix over REST.
    for p in track(4.0, 30, 9, 320, wobble_m=3):
        sent = await world.client.post(
            "/api/location-reports/",
            json={"latitude": p.lat, "longitude": p.lon, "timestamp": BASE_S + p.time_ms / 1000},
            headers=bearer(tokens["ben"]),
        )
        assert sent.status_code == 201
    # A late copy of an old stretch of Ana's track times nothing again.
    late = ana[2]
    again = await world.client.get(
        f"/api/osmand?id=ana-phone&lat={late.lat}&lon={late.lon + 1e-6}"
        f"&timestamp={BASE_S + late.time_ms / 1000 + 0.5}"
    )
    assert again.status_code == 200

    await world.platform.tracking.writer.settled()  # checkpoints are found beside the writer
    async with world.platform.db_factory() as db:
        log = await ingest.source_data(db, event, "tracking", "checkpoint")
    assert len(log) == 6  # three checkpoints, two participants, once each

    splits = await world.client.get(
        f"/events/{event}/tracking/splits", headers=world.auth("organizer")
    )
    assert splits.status_code == 200, splits.text
    body = splits.json()
    assert body["checkpoints"] == ["Start", "Hill", "Finish"]
    first, second = body["standings"]
    assert (first["username"], first["position"], first["reached"]) == ("ana", 1, 3)
    assert (second["username"], second["position"], second["reached"]) == ("ben", 2, 3)
    truth = {"ana": [0, 90_000, 180_000], "ben": [0, 112_500, 225_000]}
    for standing in body["standings"]:
        got = [split["elapsedMs"] for split in standing["splits"]]
        for have, want in zip(got, truth[standing["username"]], strict=True):
            assert abs(have - want) <= 1000, (standing["username"], got)
    assert first["splits"][0]["time"].startswith("2025-06-01T10:00:20")

    # The event's processor reads the records without calling them bad.
    processor = await world.platform.processors.record_arrived(event)
    assert processor.diagnostics.by_type["checkpoint"] == 6
    assert processor.diagnostics.bad == 0

    # The live board shows the session the checkpoints timed, scored as loops are.
    live = (await world.client.get(f"/events/{event}/live")).json()["sessions"]
    (session,) = [s for s in live if s["name"] == "Checkpoints"]
    assert [car["first_name"] for car in session["cars"]] == ["ana", "ben"]
    assert [car["position"] for car in session["cars"]] == [1, 2]
    for car in session["cars"]:
        want = truth[car["first_name"]]
        got = [0] + [sector["time_ms"] for sector in car["sectors"]]
        assert [sector["to"] for sector in car["sectors"]] == ["Hill", "Finish"]
        assert car["last_loop"] == "Finish" and car["laps"] == 2
        assert abs(car["total_time_ms"] - want[-1]) <= 1000
        for have, expected in zip(got, want, strict=True):
            assert abs(have - expected) <= 1000, (car["first_name"], got)

    # ``trackside replay`` of the log export shows the same.
    export = await world.client.get(
        f"/events/{event}/log?format=jsonl", headers=world.auth("official")
    )
    assert export.status_code == 200, export.text
    (tmp_path / "event.jsonl").write_bytes(export.content)
    out = tmp_path / "replay.json"
    ran = CliRunner().invoke(
        app, ["replay", str(tmp_path / "event.jsonl"), "--quiet", "--output", str(out)]
    )
    assert ran.exit_code == 0, ran.output
    replayed = json.loads(out.read_bytes())["sessions"]
    for one in replayed:
        del one["records"]
    for one in live:
        del one["classification"]
    assert replayed == live
    outsider = await new_user(world, "outsider")
    refused = await world.client.get(f"/events/{event}/tracking/splits", headers=bearer(outsider))
    assert refused.status_code == 403
