"""Line protocol as InfluxDB takes it: v2 and v1 write APIs, gzip, caps, errors, API tokens;
proved with the official influxdb-client and with Telegraf-shaped requests."""

from __future__ import annotations

import asyncio
import base64
import gzip
import hashlib
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from tests.api.world import World, build
from tests.databases import test_settings
from tests.events.livefeed import serving
from trackside.api.app import create_app
from trackside.telemetry.models import TelemetryToken

T0 = 1_733_346_000_000_000_000  # 2024-12-04T21:00:00Z in ns


async def api_token(world: World, who: str = "telemetry_writer") -> str:
    made = await world.client.post(
        "/api/telemetry/tokens", json={"name": "logger"}, headers=world.auth(who)
    )
    assert made.status_code == 201, made.text
    return made.json()["token"]


async def series(world: World, measurement: str, bucket: str = "telemetry", **params: str):
    response = await world.client.get(
        "/api/telemetry/query",
        params={
            "bucket": bucket,
            "measurement": measurement,
            "start": "2024-12-04T00:00:00Z",
            "stop": "2024-12-05T00:00:00Z",
            **params,
        },
        headers=world.auth("viewer"),
    )
    assert response.status_code == 200, response.text
    return {s["field"]: s for s in response.json()["series"]}


async def test_v2_write_with_an_api_token(world: World) -> None:
    token = await api_token(world)
    body = "\n".join(
        f"car,car=7,session=3 speed={200 + i}.5,rpm={11000 + i}i,drs=true {T0 + i * 50_000_000}"
        for i in range(20)
    )
    written = await world.client.post(
        "/api/v2/write",
        params={"org": "racecar", "bucket": "telemetry", "precision": "ns"},
        content=body,
        headers={"Authorization": f"Token {token}", "Content-Type": "text/plain; charset=utf-8"},
    )
    assert written.status_code == 204, written.text
    assert written.content == b""
    found = await series(world, "car", car="7")
    assert found["speed"]["value"][:2] == [200.5, 201.5]
    assert found["rpm"]["value"][-1] == 11019
    assert found["drs"]["value"][0] is True
    assert found["speed"]["time"][1] == (T0 + 50_000_000) / 1e6


async def test_v1_write_is_the_same_bucket_and_takes_basic_and_query_credentials(
    world: World,
) -> None:
    token = await api_token(world)
    basic = base64.b64encode(f"anyone:{token}".encode()).decode()
    v1 = await world.client.post(
        "/write",
        params={"db": "telemetry", "precision": "s"},
        content=f"lap,car=7 time=101.234 {T0 // 10**9}",
        headers={"Authorization": f"Basic {basic}", "Content-Type": "text/plain"},
    )
    assert v1.status_code == 204, v1.text
    by_query = await world.client.post(
        "/write",
        params={"db": "telemetry", "precision": "ms", "u": "x", "p": token},
        content=f"lap,car=7 time=99.5 {T0 // 10**6 + 1000}",
    )
    assert by_query.status_code == 204, by_query.text
    by_jwt = await world.client.post(
        "/api/v2/write",
        params={"bucket": "telemetry", "org": "racecar", "precision": "ms"},
        content=f"lap,car=7 time=98.25 {T0 // 10**6 + 2000}",
        headers={"Authorization": f"Bearer {world.tokens['telemetry_writer']}"},
    )
    assert by_jwt.status_code == 204, by_jwt.text
    found = await series(world, "lap")
    assert found["time"]["value"] == [101.234, 99.5, 98.25]


async def test_buckets_are_made_on_first_write_and_kept_apart(world: World) -> None:
    token = await api_token(world)
    headers = {"Authorization": f"Token {token}"}
    for bucket in ("practice", "race"):
        written = await world.client.post(
            "/api/v2/write",
            params={"org": "team-a", "bucket": bucket},
            content=f"car,car=7 speed={len(bucket)} {T0}",
            headers=headers,
        )
        assert written.status_code == 204, written.text
    assert (await series(world, "car", bucket="practice"))["speed"]["value"] == [8.0]
    assert (await series(world, "car", bucket="race"))["speed"]["value"] == [4.0]
    assert await series(world, "car") == {}
    bad = await world.client.post(
        "/api/v2/write", params={"bucket": "no spaces"}, content="m v=1", headers=headers
    )
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid"


async def test_a_bad_line_rejects_the_whole_request_in_influxdbs_shape(world: World) -> None:
    token = await api_token(world)
    body = f"car speed=1 {T0}\ncar speed=2 {T0 + 1}\ncar speed=fast {T0 + 2}\ncar speed=4"
    for path, params in (
        ("/api/v2/write", {"bucket": "telemetry", "org": "o"}),
        ("/write", {"db": "telemetry"}),
    ):
        refused = await world.client.post(
            path, params=params, content=body, headers={"Authorization": f"Token {token}"}
        )
        assert refused.status_code == 400, refused.text
        error = refused.json()
        assert error["code"] == "invalid"
        assert "line 3" in error["message"]
        assert error["line"] == 3
        assert error["error"] == error["message"]  # InfluxDB 1.x clients read "error"
    assert await series(world, "car") == {}


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        ({"bucket": "telemetry", "precision": "fortnight"}, "precision"),
        ({"org": "o"}, "bucket"),
    ],
)
async def test_bad_parameters(world: World, params: dict[str, str], problem: str) -> None:
    token = await api_token(world)
    refused = await world.client.post(
        "/api/v2/write", params=params, content="m v=1", headers={"Authorization": f"Token {token}"}
    )
    assert refused.status_code == 400
    assert refused.json()["code"] == "invalid"
    assert problem in refused.json()["message"]


async def test_v1_write_needs_a_db(world: World) -> None:
    token = await api_token(world)
    refused = await world.client.post(
        "/write", content="m v=1", headers={"Authorization": f"Token {token}"}
    )
    assert refused.status_code == 400
    assert "db" in refused.json()["message"]


async def test_who_may_write_line_protocol(world: World) -> None:
    for headers, status in (
        ({}, 401),
        ({"Authorization": "Token tsk_not-a-real-token"}, 401),
        ({"Authorization": f"Token {world.tokens['expired']}"}, 401),
        ({"Authorization": f"Token {world.tokens['admin']}"}, 403),
    ):
        refused = await world.client.post(
            "/api/v2/write", params={"bucket": "telemetry"}, content="m v=1", headers=headers
        )
        assert refused.status_code == status, refused.text
        assert refused.json()["code"] == ("unauthorized" if status == 401 else "forbidden")


async def test_gzip_and_the_size_cap(tmp_path: Path, database_url: None) -> None:
    settings = test_settings(tmp_path / "data", None, telemetry_max_body_bytes=4096)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            world = await build(app.state.platform, client)
            headers = {"Authorization": f"Token {await api_token(world)}"}
            params = {"bucket": "telemetry", "org": "o"}
            small = "\n".join(f"m,car=7 v={i} {T0 + i}" for i in range(50)).encode()
            zipped = await client.post(
                "/api/v2/write",
                params=params,
                content=gzip.compress(small),
                headers={**headers, "Content-Encoding": "gzip"},
            )
            assert zipped.status_code == 204, zipped.text
            assert (await series(world, "m"))["v"]["value"][-1] == 49.0

            big = b"\n".join(b"m v=1 %d" % (T0 + i) for i in range(1000))  # > 4 KiB
            for content, extra in (
                (big, {}),
                (gzip.compress(big), {"Content-Encoding": "gzip"}),  # small zipped, big inside
            ):
                refused = await client.post(
                    "/api/v2/write", params=params, content=content, headers={**headers, **extra}
                )
                assert refused.status_code == 413, refused.text
                assert refused.json()["code"] == "request too large"
                assert refused.json()["maxLength"] == 4096
            broken = await client.post(
                "/api/v2/write",
                params=params,
                content=b"\x1f\x8b not gzip",
                headers={**headers, "Content-Encoding": "gzip"},
            )
            assert broken.status_code == 400
            assert len((await series(world, "m"))["v"]["value"]) == 50


async def test_api_tokens_are_shown_once_kept_as_digests_and_revocable(world: World) -> None:
    writer = world.auth("telemetry_writer")
    made = await world.client.post(
        "/api/telemetry/tokens", json={"name": "datalogger"}, headers=writer
    )
    assert made.status_code == 201
    token, token_id = made.json()["token"], made.json()["id"]
    listed = await world.client.get("/api/telemetry/tokens", headers=writer)
    assert [t["name"] for t in listed.json()] == ["logger", "datalogger"]  # the world's one too
    assert token not in listed.text
    async with world.platform.db_factory() as db:
        row = await db.scalar(select(TelemetryToken).where(TelemetryToken.id == token_id))
        assert row is not None
        assert row.token_digest == hashlib.sha256(token.encode()).hexdigest()
    headers = {"Authorization": f"Token {token}"}
    params = {"bucket": "telemetry"}
    assert (
        await world.client.post("/api/v2/write", params=params, content="m v=1", headers=headers)
    ).status_code == 204
    # other accounts cannot revoke it
    async with world.platform.db_factory() as db:
        from trackside.accounts import people

        official = await people.by_username(db, "official")
        await people.set_level(db, official, 5)
        await db.commit()
    theirs = await world.client.delete(
        f"/api/telemetry/tokens/{token_id}", headers=world.auth("official")
    )
    assert theirs.status_code == 404
    gone = await world.client.delete(f"/api/telemetry/tokens/{token_id}", headers=writer)
    assert gone.status_code == 204
    refused = await world.client.post(
        "/api/v2/write", params=params, content="m v=1", headers=headers
    )
    assert refused.status_code == 401
    again = await world.client.delete(f"/api/telemetry/tokens/{token_id}", headers=writer)
    assert again.status_code == 404


async def test_a_token_follows_its_accounts_level(world: World) -> None:
    token = await api_token(world)
    async with world.platform.db_factory() as db:
        from trackside.accounts import people

        writer = await people.by_username(db, "telemetry_writer")
        await people.set_level(db, writer, 3)
        await db.commit()
    refused = await world.client.post(
        "/api/v2/write",
        params={"bucket": "telemetry"},
        content="m v=1",
        headers={"Authorization": f"Token {token}"},
    )
    assert refused.status_code == 403
    reads = await world.client.get(
        "/api/telemetry/query",
        params={"measurement": "m"},
        headers={"Authorization": f"Token {token}"},
    )
    assert reads.status_code == 200


async def test_telegraf_shaped_requests(world: World) -> None:
    """outputs.influxdb_v2: no precision (ns), gzip, thousands of lines, Token auth."""
    token = await api_token(world)
    lines = []
    for i in range(3000):
        lines.append(
            f"cpu,host=pit-laptop,cpu=cpu{i % 4} usage_user={i % 100}.25,usage_idle=50"
            f" {T0 + i * 10_000_000}"
        )
        lines.append(
            f'net,host=pit-laptop,interface=eth0 bytes_recv={i}i,up=true,name="e 0"'
            f" {T0 + i * 10_000_000}"
        )
    written = await world.client.post(
        "/api/v2/write",
        params={"bucket": "telemetry", "org": "racecar"},
        content=gzip.compress("\n".join(lines).encode()),
        headers={
            "Authorization": f"Token {token}",
            "Content-Encoding": "gzip",
            "Content-Type": "text/plain; charset=utf-8",
            "User-Agent": "Telegraf/1.30.0 Go/1.22.0",
        },
    )
    assert written.status_code == 204, written.text
    cpu = await series(world, "cpu", cpu="cpu1", fields="usage_user", every="1m")
    assert sum(cpu["usage_user"]["count"]) == 750
    net = await series(world, "net", every="1h")
    assert net["bytes_recv"]["max"] == [2999.0]
    assert net["bytes_recv"]["count"] == [3000]


async def test_the_official_influxdb_client_writes_unchanged(world: World) -> None:
    from influxdb_client import InfluxDBClient, Point, WritePrecision
    from influxdb_client.client.write_api import WriteOptions

    token = await api_token(world)

    def write(url: str) -> None:
        with InfluxDBClient(url=f"http://{url}", token=token, org="racecar", enable_gzip=True) as c:
            options = WriteOptions(batch_size=1000, flush_interval=200)
            with c.write_api(write_options=options) as api:
                for i in range(2500):
                    api.write(
                        bucket="telemetry",
                        record=Point("car")
                        .tag("car", "42")
                        .field("speed", 150.0 + i % 50)
                        .field("gear", i % 6 + 1)
                        .time(T0 + i * 50_000_000, WritePrecision.NS),
                    )
                api.write(bucket="telemetry", record="car,car=42 brake=0.5 " + str(T0 + 1))

    async with serving(world.client._transport.app) as url:  # type: ignore[attr-defined]
        await asyncio.to_thread(write, url)
    found = await series(world, "car", car="42", every="1h")
    assert found["speed"]["count"] == [2500]
    assert found["gear"]["max"] == [6.0]
    assert found["brake"]["count"] == [1]
