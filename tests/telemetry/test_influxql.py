"""The InfluxQL subset at /query, in InfluxDB's JSON shape, on both backends, and read by the
``influxdb`` PyPI client unchanged."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.api.world import World
from tests.events.livefeed import serving
from tests.telemetry.test_query import T0, load
from trackside.telemetry.influxql import CreateDatabase, QueryError, Select, Show, parse

NOW = T0 + 3600 * 10**9


def test_parse_a_grafana_query() -> None:
    [query] = parse(
        'SELECT mean("speed") AS "avg", max(rpm) FROM "car" WHERE ("car" = \'7\') AND '
        'time >= 1733346000000ms and time <= 1733349600000ms GROUP BY time(1s), "car" fill(none)',
        NOW,
    )
    assert isinstance(query, Select)
    assert [(c.function, c.field, c.alias) for c in query.calls] == [
        ("mean", "speed", "avg"),
        ("max", "rpm", "max"),
    ]
    assert query.measurement == "car"
    assert query.tags == [("car", "7")]
    assert query.start_ns == T0
    assert query.stop_ns == NOW + 1
    assert query.every_ns == 10**9
    assert query.group_by == ["car"]
    assert query.fill == "none"


def test_parse_relative_and_rfc3339_times() -> None:
    [a, b] = parse(
        "SELECT speed FROM car WHERE time > now() - 1h; "
        "select last(speed) from car where time >= '2024-12-04T21:00:00Z' and time < now() LIMIT 5",
        NOW,
    )
    assert isinstance(a, Select) and isinstance(b, Select)
    assert a.start_ns == NOW - 3600 * 10**9 + 1
    assert not a.aggregated
    assert b.start_ns == T0 and b.stop_ns == NOW and b.limit == 5


def test_parse_show_and_create() -> None:
    assert parse("SHOW DATABASES", NOW) == [Show("databases")]
    assert parse('SHOW TAG VALUES FROM "car" WITH KEY = "car"', NOW) == [
        Show("tag values", "car", "car")
    ]
    assert parse("show field keys from car", NOW) == [Show("field keys", "car")]
    assert parse('CREATE DATABASE "telegraf"', NOW) == [CreateDatabase("telegraf")]


@pytest.mark.parametrize(
    "text",
    [
        "DROP DATABASE x",
        "SELECT median(speed) FROM car",
        "SELECT mean(speed), rpm FROM car",
        "SELECT speed FROM car WHERE car = '7' OR car = '8'",
        "SELECT speed FROM car GROUP BY time(1s)",
        "SELECT mean(speed) FROM car GROUP BY time(fast)",
        "SELECT speed FROM",
        "",
    ],
)
def test_outside_the_subset(text: str) -> None:
    with pytest.raises(QueryError):
        parse(text, NOW)


async def influxql(world: World, q: str, **params: str) -> httpx.Response:
    return await world.client.get(
        "/query", params={"q": q, "db": "telemetry", **params}, headers=world.auth("viewer")
    )


async def test_group_by_time_and_tag(tworld: World, backend: str) -> None:
    await load(tworld)
    answer = await influxql(
        tworld,
        "SELECT mean(speed), max(speed), count(speed) FROM car WHERE time >= '2024-12-04T21:00:00Z'"
        " AND time < '2024-12-04T21:00:02Z' GROUP BY time(1s), car",
        epoch="ms",
    )
    assert answer.status_code == 200, answer.text
    [result] = answer.json()["results"]
    assert result["statement_id"] == 0
    by_car = {s["tags"]["car"]: s for s in result["series"]}
    assert by_car["7"]["name"] == "car"
    assert by_car["7"]["columns"] == ["time", "mean", "max", "count"]
    assert by_car["7"]["values"] == [
        [T0 // 10**6, 9.5, 19.0, 20],
        [T0 // 10**6 + 1000, 29.5, 39.0, 20],
    ]
    assert by_car["42"]["values"][0] == [T0 // 10**6, 1009.5, 1019.0, 20]


async def test_fill_null_answers_every_bucket(tworld: World, backend: str) -> None:
    await load(tworld)
    answer = await influxql(
        tworld,
        "SELECT last(speed) FROM car WHERE car = '7' AND time >= '2024-12-04T20:59:58Z'"
        " AND time < '2024-12-04T21:00:01Z' GROUP BY time(1s)",
    )
    [series] = answer.json()["results"][0]["series"]
    assert "tags" not in series
    assert series["values"] == [
        ["2024-12-04T20:59:58Z", None],
        ["2024-12-04T20:59:59Z", None],
        ["2024-12-04T21:00:00Z", 19.0],
    ]


async def test_aggregate_over_the_range_and_raw_fields(tworld: World, backend: str) -> None:
    await load(tworld)
    answer = await influxql(
        tworld,
        "SELECT min(speed) AS low, last(gear) FROM car WHERE car = '42' AND "
        "time >= '2024-12-04T21:00:00Z' AND time < '2024-12-04T21:00:10Z'; "
        "SELECT speed, gear FROM car WHERE car = '7' AND time >= '2024-12-04T21:00:00Z' LIMIT 3",
        epoch="ns",
    )
    first, second = answer.json()["results"]
    assert first["series"][0]["columns"] == ["time", "low", "last"]
    assert first["series"][0]["values"] == [[T0, 1000.0, 2]]
    assert second["statement_id"] == 1
    assert second["series"][0]["columns"] == ["time", "speed", "gear"]
    assert second["series"][0]["values"] == [
        [T0, 0.0, 1],
        [T0 + 50_000_000, 1.0, 2],
        [T0 + 100_000_000, 2.0, 3],
    ]


async def test_show_statements(tworld: World, backend: str) -> None:
    await load(tworld)
    answer = await influxql(
        tworld,
        "SHOW DATABASES; SHOW MEASUREMENTS; SHOW FIELD KEYS FROM car; SHOW TAG KEYS; "
        'SHOW TAG VALUES FROM car WITH KEY = "car"',
    )
    databases, measurements, fields, tag_keys, tag_values = answer.json()["results"]
    assert databases["series"][0]["values"] == [["telemetry"]]
    assert measurements["series"][0]["values"] == [["car"]]
    assert fields["series"][0]["values"] == [["gear"], ["speed"], ["status"]]
    assert tag_keys["series"][0]["values"] == [["car"], ["session"]]
    assert tag_values["series"][0]["values"] == [["car", "42"], ["car", "7"]]


async def test_errors(tworld: World, backend: str) -> None:
    bad = await influxql(tworld, "SELECT FROM")
    assert bad.status_code == 400
    assert "error parsing query" in bad.json()["error"]
    no_start = await influxql(
        tworld, "SELECT mean(speed) FROM car WHERE car = '7' GROUP BY time(1s)"
    )
    assert "lower time bound" in no_start.json()["results"][0]["error"]
    too_many = await influxql(
        tworld, "SELECT mean(speed) FROM car WHERE time > now() - 1d GROUP BY time(1ms)"
    )
    assert "time buckets" in too_many.json()["results"][0]["error"]
    missing_q = await tworld.client.get("/query", headers=tworld.auth("viewer"))
    assert missing_q.status_code == 400
    nobody = await tworld.client.get("/query", params={"q": "SHOW DATABASES"})
    assert nobody.status_code == 401
    assert nobody.json()["code"] == "unauthorized"
    create = await tworld.client.post(
        "/query", params={"q": 'CREATE DATABASE "x"'}, headers=tworld.auth("viewer")
    )
    assert create.status_code == 403


async def test_the_influxdb_client_reads_and_writes_unchanged(world: World) -> None:
    from influxdb import InfluxDBClient

    token = (
        await world.client.post(
            "/api/telemetry/tokens",
            json={"name": "grafana"},
            headers=world.auth("telemetry_writer"),
        )
    ).json()["token"]

    def talk(address: str) -> tuple[list, list, list]:
        host, port = address.split(":")
        client = InfluxDBClient(host, int(port), "anyone", token, "telemetry")
        client.create_database("telegraf")
        client.write_points(
            [
                {
                    "measurement": "car",
                    "tags": {"car": "7"},
                    "time": T0 + i * 50_000_000,
                    "fields": {"speed": float(i), "gear": i % 6 + 1},
                }
                for i in range(100)
            ],
            time_precision="n",
        )
        grouped = client.query(
            "SELECT mean(speed), count(gear) FROM car WHERE time >= '2024-12-04T21:00:00Z' "
            "AND time < '2024-12-04T21:00:05Z' GROUP BY time(1s) fill(none)"
        )
        raw = client.query("SELECT speed FROM car WHERE car = '7' LIMIT 2", epoch="ms")
        databases = client.get_list_database()
        client.close()
        return list(grouped.get_points()), list(raw.get_points()), databases

    async with serving(world.client._transport.app) as address:  # type: ignore[attr-defined]
        grouped, raw, databases = await asyncio.to_thread(talk, address)
    assert grouped == [
        {"time": "2024-12-04T21:00:00Z", "mean": 9.5, "count": 20},
        {"time": "2024-12-04T21:00:01Z", "mean": 29.5, "count": 20},
        {"time": "2024-12-04T21:00:02Z", "mean": 49.5, "count": 20},
        {"time": "2024-12-04T21:00:03Z", "mean": 69.5, "count": 20},
        {"time": "2024-12-04T21:00:04Z", "mean": 89.5, "count": 20},
    ]
    assert raw == [
        {"time": T0 // 10**6, "speed": 0.0},
        {"time": T0 // 10**6 + 50, "speed": 1.0},
    ]
    assert {"name": "telegraf"} in databases and {"name": "telemetry"} in databases
