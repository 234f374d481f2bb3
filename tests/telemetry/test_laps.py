"""Telemetry cut by a car's lap crossings from the event log, and a lap against the best one."""

from __future__ import annotations

import pytest

from tests.api.world import World

R0 = 1_745_000_000_000  # when the session's first record arrived (epoch ms)
LATENCY = 500  # each crossing's record arrives this long after the crossing
FEED = [
    '$B,5,"Race 1"',
    '$C,1,"GT"',
    '$A,"7","7",1234567,"Ana","Diaz","",1',
    '$G,1,"7",,"00:00:00.000"',
    '$F,9999,"00:10:00","10:00:00","00:00:00","Green "',
    '$J,"7","00:01:40.000","00:01:45.000"',  # lap 1: 100 s, ends at 105 s
    '$G,1,"7",1,"00:01:45.000"',
    '$J,"7","00:01:38.000","00:03:23.000"',  # lap 2: 98 s (best), ends at 203 s
    '$G,1,"7",2,"00:03:23.000"',
    '$J,"7","00:01:39.000","00:05:02.000"',  # lap 3: 99 s, ends at 302 s
    '$G,1,"7",3,"00:05:02.000"',
]


def arrival(line: str, i: int) -> int:
    """A crossing's record arrives after its race time; the rest at the start."""
    if line.startswith("$J"):
        h, m, sec = line.split(",")[3].strip('"').split(":")
        return R0 + int((int(h) * 3600 + int(m) * 60 + float(sec)) * 1000) + LATENCY
    return R0 + i - 1


async def race(world: World) -> int:
    """The public event's race, fed through the relay API; its session id."""
    event = world.ids["public"]
    posted = await world.client.post(
        f"/relay/events/{event}/records",
        json={
            "source": "rmonitor",
            "records": [
                {"seq": i, "received_at": arrival(line, i), "type": "rmonitor", "data": line}
                for i, line in enumerate(FEED, start=1)
            ],
        },
        headers=world.auth("client_relay"),
    )
    assert posted.status_code == 200, posted.text
    processor = await world.platform.processors.record_arrived(event)
    session_id = processor.session_id_of(0)
    assert session_id is not None
    # car 7 at 1 Hz from the session's opening: speed = seconds since R0; another car too
    lines = [
        f"car,car={car},event={event} speed={s + (1000 if car == '8' else 0)},throttle=0.5"
        f" {(R0 + s * 1000) * 1_000_000}"
        for car in ("7", "8")
        for s in range(0, 310)
    ]
    written = await world.client.post(
        "/api/v2/write",
        params={"bucket": "telemetry", "org": "team", "precision": "ns"},
        content="\n".join(lines),
        headers=world.auth("telemetry_writer"),
    )
    assert written.status_code == 204, written.text
    return session_id


async def test_a_lap_and_the_best_lap(world: World) -> None:
    session_id = await race(world)
    event = world.ids["public"]
    answer = await world.client.get(
        f"/events/{event}/sessions/{session_id}/cars/7/telemetry",
        params={"lap": 1, "fields": "speed", "compare": "best", "event": str(event)},
        headers=world.auth("viewer"),
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    lap = body["lap"]
    assert (lap["number"], lap["lapTimeMs"]) == (1, 100_000)
    # placed by when the crossing records arrived (lap 1's start: its end less its lap time)
    assert (lap["startMs"], lap["endMs"]) == (R0 + 5_500, R0 + 105_500)
    assert lap["raw"] is True
    [speed] = lap["series"]
    assert speed["field"] == "speed"
    assert speed["value"] == [float(s) for s in range(6, 106)]
    assert speed["time"] == [float(ms) for ms in range(500, 100_000, 1000)]
    best = body["best"]
    assert (best["number"], best["lapTimeMs"]) == (2, 98_000)
    assert (best["startMs"], best["endMs"]) == (R0 + 105_500, R0 + 203_500)
    assert best["series"][0]["value"][0] == 106.0
    assert best["series"][0]["time"][0] == 500.0
    assert len(best["series"][0]["value"]) == 98


async def test_without_compare_and_every_field(world: World) -> None:
    session_id = await race(world)
    event = world.ids["public"]
    answer = await world.client.get(
        f"/events/{event}/sessions/{session_id}/cars/7/telemetry",
        params={"lap": 3},
        headers=world.auth("viewer"),
    )
    body = answer.json()
    assert body["best"] is None
    assert {s["field"] for s in body["lap"]["series"]} == {"speed", "throttle"}
    speed = next(s for s in body["lap"]["series"] if s["field"] == "speed")
    assert speed["value"][0] == 204.0  # car 8's points stay out


@pytest.mark.parametrize(
    ("car", "lap", "status"),
    [("7", 4, 404), ("99", 1, 404)],
)
async def test_unknown_laps_and_cars(world: World, car: str, lap: int, status: int) -> None:
    session_id = await race(world)
    answer = await world.client.get(
        f"/events/{world.ids['public']}/sessions/{session_id}/cars/{car}/telemetry",
        params={"lap": lap},
        headers=world.auth("viewer"),
    )
    assert answer.status_code == status, answer.text


async def test_private_events_stay_private(world: World) -> None:
    answer = await world.client.get(
        f"/events/{world.ids['private']}/sessions/{world.ids['private_race']}/cars/9/telemetry",
        params={"lap": 1},
        headers=world.auth("viewer"),
    )
    assert answer.status_code == 403
    allowed = await world.client.get(
        f"/events/{world.ids['private']}/sessions/{world.ids['private_race']}/cars/9/telemetry",
        params={"lap": 1},
        headers=world.auth("organizer"),
    )
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["lap"]["series"] == []
