"""The telemetry platform's contract, unchanged: /register, /login, /me, /write, /write-graph,
/write-simple; level 5 writes, lower levels are refused, bad bodies store nothing."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.world import World
from tests.databases import test_settings
from trackside.api.app import create_app


async def points(world: World, measurement: str, **params: str) -> list[dict[str, Any]]:
    response = await world.client.get(
        "/api/telemetry/query",
        params={"measurement": measurement, "start": "2000-01-01T00:00:00Z", **params},
        headers=world.auth("viewer"),
    )
    assert response.status_code == 200, response.text
    return response.json()["series"]


async def test_register_logs_in_at_once_without_an_email(client: httpx.AsyncClient) -> None:
    made = await client.post("/register", json={"username": "pit_crew", "password": "s3cret-pw"})
    assert made.status_code == 201, made.text
    assert made.json()["level"] == 1
    assert made.json()["email"] is None
    login = await client.post("/login", json={"username": "pit_crew", "password": "s3cret-pw"})
    assert login.status_code == 200, login.text
    assert login.json()["token_type"] == "bearer"
    token = login.json()["access_token"]
    me = await client.get("/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["username"] == "pit_crew"
    assert me.json()["level"] == 1
    again = await client.post("/register", json={"username": "PIT_CREW", "password": "other-pw1"})
    assert again.status_code == 409
    short = await client.post("/register", json={"username": "x", "password": "s3cret-pw"})
    assert short.status_code == 422
    assert short.json()["errors"][0]["field"] == "username"


async def test_an_account_registered_with_an_email_still_verifies_first(
    client: httpx.AsyncClient,
) -> None:
    await client.post(
        "/auth/register",
        json={"username": "mailer", "email": "m@example.org", "password": "s3cret-pw"},
    )
    login = await client.post("/login", json={"username": "mailer", "password": "s3cret-pw"})
    assert login.status_code == 403


async def test_write_stores_a_queryable_point(world: World) -> None:
    written = await world.client.post(
        "/write",
        json={
            "measurement": "engine",
            "tags": {"car": "7"},
            "fields": {"rpm": 11250, "temp": 92.5, "ok": True, "note": "pit in"},
            "timestamp": 1733346000123,
        },
        headers=world.auth("telemetry_writer"),
    )
    assert written.status_code == 200, written.text
    assert written.json() == {"status": "ok", "bucket": "telemetry", "points": 1}
    series = {s["field"]: s for s in await points(world, "engine", car="7")}
    assert series["rpm"]["value"] == [11250.0]
    assert series["temp"]["value"] == [92.5]
    assert series["ok"]["value"] == [True]
    assert series["note"]["value"] == ["pit in"]
    assert series["rpm"]["time"] == [1733346000123.0]
    assert await points(world, "engine", car="8") == []


@pytest.mark.parametrize(
    ("timestamp", "expected_ms"),
    [
        (1733346000, 1733346000000.0),  # seconds
        (1733346000.5, 1733346000500.0),  # seconds with a fraction
        (1733346000123, 1733346000123.0),  # milliseconds
        (1733346000123456, 1733346000123.456),  # microseconds
        (1733346000123456789, 1733346000123.4568),  # nanoseconds
    ],
)
async def test_write_graph_tells_units_apart_by_magnitude(
    world: World, timestamp: float, expected_ms: float
) -> None:
    written = await world.client.post(
        "/write-graph",
        json={"timestamp": timestamp, "value": 42.5},
        headers=world.auth("telemetry_writer"),
    )
    assert written.status_code == 200, written.text
    [series] = await points(world, "graph")
    assert series["field"] == "value"
    assert series["value"] == [42.5]
    assert series["time"][0] == pytest.approx(expected_ms, abs=1e-3)


async def test_write_simple(world: World) -> None:
    before = time.time() * 1000
    written = await world.client.post(
        "/write-simple",
        params={"query": "hello from the pits"},
        headers=world.auth("telemetry_writer"),
    )
    assert written.status_code == 200, written.text
    [series] = await points(world, "simple")
    assert series["field"] == "message"
    assert series["value"] == ["hello from the pits"]
    assert before - 1 <= series["time"][0] <= time.time() * 1000 + 1


WRITES = [
    ("/write", {"json": {"measurement": "m", "fields": {"v": 1}}}),
    ("/write-graph", {"json": {"timestamp": 1733346000, "value": 1}}),
    ("/write-simple", {"params": {"query": "x"}}),
]


@pytest.mark.parametrize(("path", "request_kw"), WRITES)
async def test_who_may_write(world: World, path: str, request_kw: dict[str, Any]) -> None:
    nobody = await world.client.post(path, **request_kw)
    assert nobody.status_code == 401
    expired = await world.client.post(path, **request_kw, headers=world.auth("expired"))
    assert expired.status_code == 401
    assert 'error="invalid_token"' in expired.headers["www-authenticate"]
    for low in ("viewer", "admin"):  # level 1, whatever the roles
        refused = await world.client.post(path, **request_kw, headers=world.auth(low))
        assert refused.status_code == 403
        assert "level 5" in refused.json()["detail"]
    for who in ("viewer", "admin"):
        assert (await world.client.get("/me", headers=world.auth(who))).json()["level"] == 1
    allowed = await world.client.post(path, **request_kw, headers=world.auth("telemetry_writer"))
    assert allowed.status_code == 200
    measurement = {"/write": "m", "/write-graph": "graph", "/write-simple": "simple"}[path]
    assert len(await points(world, measurement)) == 1


BAD = [
    ("/write", {"measurement": "", "fields": {"v": 1}}, "measurement"),
    ("/write", {"measurement": "m", "fields": {}}, "fields"),
    ("/write", {"measurement": "m", "fields": {"v": None}}, "fields.v"),
    ("/write", {"measurement": "m", "fields": {"v": [1, 2]}}, "fields.v"),
    ("/write", {"measurement": "m", "fields": {"_v": 1}}, "fields"),
    ("/write", {"measurement": "m", "fields": {"": 1}}, "fields"),
    ("/write", {"measurement": "m", "tags": {"car": ""}, "fields": {"v": 1}}, "tags.car"),
    ("/write", {"measurement": "m", "tags": {"_car": "7"}, "fields": {"v": 1}}, "tags"),
    ("/write", {"measurement": "m", "tags": {"car": 7}, "fields": {"v": 1}}, "tags.car"),
    ("/write", {"measurement": "m", "fields": {"v": 1}, "timestamp": "soon"}, "timestamp"),
    ("/write", {"measurement": "m", "fields": {"v": 1}, "timestamp": 12}, "timestamp"),
    ("/write", {"measurement": "m", "fields": {"v": 1}, "extra": 1}, "extra"),
    ("/write-graph", {"timestamp": 1733346000, "value": "fast"}, "value"),
    ("/write-graph", {"timestamp": 1733346000, "value": "42.5"}, "value"),
    ("/write-graph", {"timestamp": 1733346000, "value": True}, "value"),
    ("/write-graph", {"timestamp": "1733346000", "value": 1}, "timestamp"),
    ("/write-graph", {"timestamp": -5, "value": 1}, "timestamp"),
    ("/write-graph", {"value": 1}, "timestamp"),
    ("/write-graph", {"timestamp": 1733346000}, "value"),
]


@pytest.mark.parametrize(("path", "body", "field"), BAD)
async def test_bad_bodies_name_the_field_and_store_nothing(
    world: World, path: str, body: dict[str, Any], field: str
) -> None:
    refused = await world.client.post(path, json=body, headers=world.auth("telemetry_writer"))
    assert refused.status_code == 422, refused.text
    fields = [e["field"] for e in refused.json()["errors"]]
    assert any(f == field or f.startswith(f"{field}.") for f in fields), fields
    described = await world.client.get("/api/telemetry/measurements", headers=world.auth("viewer"))
    assert described.json() == []


async def test_write_simple_needs_a_query(world: World) -> None:
    refused = await world.client.post("/write-simple", headers=world.auth("telemetry_writer"))
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "query"


async def test_writes_are_rate_limited_per_account(tmp_path: Path, database_url: None) -> None:
    settings = test_settings(tmp_path / "data", None, telemetry_rate_limit=3)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            from tests.api.world import build

            world = await build(app.state.platform, client)
            body = {"timestamp": 1733346000, "value": 1}
            writer = world.auth("telemetry_writer")
            codes = [
                (await client.post("/write-graph", json=body, headers=writer)).status_code
                for _ in range(3)
            ]
            assert codes == [200, 200, 200]
            limited = await client.post("/write-graph", json=body, headers=writer)
            assert limited.status_code == 429
            assert int(limited.headers["retry-after"]) >= 1
            # per account: the limit of one account leaves the others alone (level 5 too)
            async with app.state.platform.db_factory() as db:
                from trackside.accounts import people

                other = await people.by_username(db, "official")
                await people.set_level(db, other, 5)
                await db.commit()
            official = await client.post("/write-graph", json=body, headers=world.auth("official"))
            assert official.status_code == 200
