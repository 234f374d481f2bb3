"""Time-range queries, downsampled on the store, on both backends: DuckDB and a real influxd."""

from __future__ import annotations

import httpx
import pytest

from tests.api.world import World

T0 = 1_733_346_000_000_000_000  # 2024-12-04T21:00:00Z
START, STOP = "2024-12-04T21:00:00Z", "2024-12-04T21:00:10Z"


async def load(world: World) -> None:
    """Two cars at 20 Hz for 10 s: speed counts up, gear is an integer, a string status."""
    lines = []
    for car, offset in (("7", 0), ("42", 1000)):
        for i in range(200):
            lines.append(
                f'car,car={car},session=3 speed={offset + i},gear={i % 6 + 1}i,status="ok"'
                f" {T0 + i * 50_000_000}"
            )
    written = await world.client.post(
        "/api/v2/write",
        params={"bucket": "telemetry", "org": "racecar"},
        content="\n".join(lines),
        headers=world.auth("telemetry_writer"),
    )
    assert written.status_code == 204, written.text


async def query(world: World, **params: str) -> httpx.Response:
    return await world.client.get(
        "/api/telemetry/query",
        params={"measurement": "car", "start": START, "stop": STOP, **params},
        headers=world.auth("viewer"),
    )


async def test_one_second_buckets(tworld: World, backend: str) -> None:
    await load(tworld)
    answer = await query(tworld, car="7", fields="speed", every="1s")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["raw"] is False
    assert body["every"] == "1s"
    [speed] = body["series"]
    assert speed["field"] == "speed"
    assert speed["time"] == [(T0 + k * 10**9) / 1e6 for k in range(10)]
    assert speed["min"] == [20.0 * k for k in range(10)]
    assert speed["max"] == [20.0 * k + 19 for k in range(10)]
    assert speed["mean"] == pytest.approx([20.0 * k + 9.5 for k in range(10)])
    assert speed["last"] == [20.0 * k + 19 for k in range(10)]
    assert speed["count"] == [20] * 10


async def test_series_of_all_matching_tags_merge(tworld: World, backend: str) -> None:
    await load(tworld)
    body = (await query(tworld, fields="speed,gear", every="5s", session="3")).json()
    found = {s["field"]: s for s in body["series"]}
    assert set(found) == {"speed", "gear"}
    assert found["speed"]["count"] == [200, 200]  # both cars, 100 points each per 5 s
    assert found["speed"]["max"] == [1099.0, 1199.0]
    assert found["gear"]["min"] == [1.0, 1.0]
    assert found["gear"]["max"] == [6.0, 6.0]


async def test_a_small_range_answers_raw_points(tworld: World, backend: str) -> None:
    await load(tworld)
    body = (
        await query(tworld, car="42", start="2024-12-04T21:00:01Z", stop="2024-12-04T21:00:01.2Z")
    ).json()
    assert body["raw"] is True
    assert body["every"] is None
    found = {s["field"]: s for s in body["series"]}
    assert found["speed"]["value"] == [1020.0, 1021.0, 1022.0, 1023.0]
    assert found["gear"]["value"] == [3, 4, 5, 6]
    assert found["status"]["value"] == ["ok"] * 4
    assert found["speed"]["time"][0] == (T0 + 10**9) / 1e6


async def test_a_large_range_is_downsampled_without_being_asked(
    tworld: World, backend: str
) -> None:
    await load(tworld)
    tworld.platform.telemetry.raw_limit = 50
    body = (await query(tworld, car="7", fields="speed")).json()
    assert body["raw"] is False
    assert body["every"] == "10ms"  # 10 s in at most 1,000 buckets
    [speed] = body["series"]
    assert sum(speed["count"]) == 200
    assert len(speed["time"]) == 200


async def test_unknown_things_answer_empty(tworld: World, backend: str) -> None:
    await load(tworld)
    for params in ({"car": "99"}, {"fields": "nope"}, {"measurement": "bike"}, {"bucket": "x"}):
        answer = await query(tworld, every="1s", **params)
        assert answer.status_code == 200, answer.text
        assert answer.json()["series"] == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"every": "1ms", "start": "2024-12-04T00:00:00Z"}, "every"),  # 86 M buckets: over the cap
        ({"every": "fast"}, "every"),
        ({"every": "0s"}, "every"),
        ({"start": "yesterday"}, "start"),
        ({"start": "2024-12-04T21:00:00"}, "start"),  # no zone
        ({"stop": "2024-12-04T20:00:00Z"}, "stop"),  # before start
        ({"bucket": "no spaces"}, "bucket"),
    ],
)
async def test_bad_parameters_are_named(
    tworld: World, backend: str, params: dict[str, str], field: str
) -> None:
    answer = await query(tworld, **params)
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["field"] == field


async def test_reading_needs_a_token(tworld: World, backend: str) -> None:
    anonymous = await tworld.client.get("/api/telemetry/query", params={"measurement": "car"})
    assert anonymous.status_code == 401
    partner = await tworld.client.get(
        "/api/telemetry/query", params={"measurement": "car"}, headers=tworld.auth("client_partner")
    )
    assert partner.status_code == 200


async def test_measurements_describe_the_bucket(tworld: World, backend: str) -> None:
    await load(tworld)
    answer = await tworld.client.get("/api/telemetry/measurements", headers=tworld.auth("viewer"))
    assert answer.json() == [
        {
            "name": "car",
            "fields": ["gear", "speed", "status"],
            "tags": {"car": ["42", "7"], "session": ["3"]},
        }
    ]
