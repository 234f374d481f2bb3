"""Bad input to every write endpoint: a 4xx whose JSON names the problem, and nothing stored.

Malformed JSON, a wrong type in each field, missing fields, a JSON value that is not an
object, and bodies over the size limit (declared and streamed).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.api.world import World, all_ids, fill
from trackside.store.models import Base


@dataclass(frozen=True)
class Write:
    method: str
    path: str
    who: str | None
    body: dict[str, Any]


WRITES = [
    Write("POST", "/organization", "admin", {"name": "New", "description": "d"}),
    Write("PATCH", "/organization/{org_a}", "admin", {"name": "Renamed"}),
    Write(
        "POST",
        "/events",
        "organizer",
        {
            "name": "E",
            "startDate": "2025-09-01T08:00:00Z",
            "endDate": "2025-09-01T18:00:00Z",
            "location": "L",
            "organizationId": "{org_a}",
            "visibility": "private",
        },
    ),
    Write(
        "PATCH", "/events/{public}", "organizer", {"name": "E2", "endDate": "2025-07-01T00:00:00Z"}
    ),
    Write(
        "POST",
        "/events/{public}/sessions",
        "official",
        {"name": "P", "type": "practice", "startTime": "2025-06-01T10:00:00Z", "endTime": None},
    ),
    Write("PATCH", "/events/{public}/sessions/{race}", "official", {"name": "R", "type": "race"}),
    Write("POST", "/events/{public}/classes", "official", {"name": "Proto"}),
    Write("PATCH", "/events/{public}/classes/{race_class}", "official", {"name": "GT3"}),
    Write(
        "POST",
        "/events/{public}/entries",
        "official",
        {
            "number": "9",
            "driverName": "D",
            "teamName": "T",
            "classId": "{race_class}",
            "transponder": "5",
        },
    ),
    Write(
        "PATCH", "/events/{public}/entries/{entry}", "official", {"number": "10", "driverName": "X"}
    ),
    Write(
        "PUT",
        "/events/{public}/loops",
        "official",
        {"loops": [{"name": "SF", "kind": "start_finish", "decoderId": 7, "loopId": 1}]},
    ),
    Write(
        "PUT",
        "/events/{public}/control-log/source",
        "organizer",
        {
            "url": "http://127.0.0.1:9/log.csv",
            "intervalS": 10,
            "columns": {"time": "Zeit", "dayFirst": True},
            "penaltyRules": [{"pattern": "DT", "outcome": "black_flag"}],
        },
    ),
    Write(
        "POST",
        "/relay/events/{public}/records",
        "client_relay",
        {
            "source": "rmonitor",
            "records": [{"seq": 1, "received_at": 1, "type": "rmonitor", "data": '$B,1,"R"'}],
        },
    ),
    Write(
        "POST",
        "/events/{private}/sessions/{private_race}/classification/corrections",
        "organizer",
        {"car": "9", "kind": "time_penalty", "ms": 30000, "class": "GTU", "reason": "r"},
    ),
    Write("POST", "/users/{viewer}/roles", "admin", {"role": "official", "eventId": "{public}"}),
    Write("PUT", "/users/{viewer}/telemetry-level", "admin", {"telemetryLevel": 5}),
    Write(
        "POST",
        "/auth/register",
        None,
        {"username": "new", "email": "n@x.org", "password": "12345678"},
    ),
    Write("POST", "/register", None, {"username": "new", "password": "12345678"}),
    Write("POST", "/write", "telemetry_writer", {"measurement": "m", "fields": {"v": 1}}),
    Write("POST", "/write-graph", "telemetry_writer", {"timestamp": 1733346000, "value": 1.5}),
    Write("POST", "/api/telemetry/tokens", "telemetry_writer", {"name": "logger"}),
    Write("POST", "/auth/login", None, {"username": "viewer", "password": "x"}),
    Write("POST", "/api/token/", None, {"username": "viewer", "password": "x"}),
    Write("POST", "/login", None, {"username": "viewer", "password": "x"}),
    Write("POST", "/auth/refresh", None, {"refresh": "r"}),
    Write("POST", "/api/token/refresh/", None, {"refresh": "r"}),
    Write("POST", "/auth/password-reset", None, {"email": "viewer@example.org"}),
    Write("POST", "/auth/password-reset/confirm", None, {"token": "t", "password": "12345678"}),
]

# Something of the wrong type for every field above (strings, numbers, dates, enums, ids).
WRONG = {"nested": ["not", "a", "scalar"]}


async def _counts(world: World) -> dict[str, int]:
    async with world.platform.db_factory() as db:
        return {
            table.name: int(await db.scalar(select(func.count()).select_from(table)) or 0)
            for table in Base.metadata.sorted_tables
        }


def _assert_names_problem(response, field: str | None = None) -> None:  # type: ignore[no-untyped-def]
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"]
    if field is not None:  # the field, or a field inside it (an object of the wrong shape)
        fields = {e["field"] for e in body["errors"]}
        assert any(f == field or f.startswith(f"{field}.") for f in fields), body


@pytest.mark.parametrize("write", WRITES, ids=lambda w: f"{w.method} {w.path}")
async def test_bad_bodies_are_refused_and_nothing_is_stored(world: World, write: Write) -> None:
    ids = all_ids(world)
    path = fill(write.path, ids)
    headers = {**world.auth(write.who), "Content-Type": "application/json"}
    before = await _counts(world)

    async def send(content: bytes):  # type: ignore[no-untyped-def]
        return await world.client.request(write.method, path, content=content, headers=headers)

    malformed = await send(b'{"name": "unterminated')
    _assert_names_problem(malformed)
    assert malformed.status_code == 400
    assert "JSON" in malformed.json()["detail"]

    for raw in (b"[]", b'"text"', b"42", b"null", b""):
        _assert_names_problem(await send(raw))

    valid = fill(write.body, ids)
    for field in valid:
        wrong = await world.client.request(
            write.method, path, json={**valid, field: WRONG}, headers=headers
        )
        _assert_names_problem(wrong, field)
        assert wrong.status_code == 422

    if write.method in ("POST", "PUT"):
        missing = await world.client.request(write.method, path, json={}, headers=headers)
        _assert_names_problem(missing, next(iter(valid)))
        assert missing.status_code == 422
    else:  # PATCH: nothing sent changes nothing, but null is no value for a required field
        nulls = await world.client.request(
            write.method, path, json={next(iter(valid)): None}, headers=headers
        )
        _assert_names_problem(nulls, next(iter(valid)))

    limit = world.platform.settings.max_body_bytes
    oversize = b'{"name": "' + b"x" * limit + b'"}'
    declared = await send(oversize)
    assert declared.status_code == 413
    assert "larger than" in declared.json()["detail"]

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(limit // 4096 + 2):
            yield b" " * 4096

    streamed = await world.client.request(write.method, path, content=chunks(), headers=headers)
    assert streamed.status_code == 413
    assert "larger than" in streamed.json()["detail"]

    assert await _counts(world) == before


async def test_wrong_values_leave_nothing_half_written(world: World) -> None:
    """A request that passes parsing but fails a rule midway stores none of its changes."""
    before = await _counts(world)
    ids = all_ids(world)
    refused = await world.client.patch(
        f"/events/{ids['public']}",
        json={"name": "Renamed", "endDate": "2020-01-01T00:00:00Z"},
        headers=world.auth("organizer"),
    )
    assert refused.status_code == 422
    event = await world.client.get(f"/events/{ids['public']}", headers=world.auth("viewer"))
    assert event.json()["name"] == "Summer Enduro"
    grant = await world.client.post(
        f"/users/{ids['viewer']}/roles", json={"role": "organizer"}, headers=world.auth("admin")
    )
    assert grant.status_code == 422
    assert grant.json()["errors"][0]["field"] == "role"
    unknown_event = await world.client.post(
        f"/users/{ids['viewer']}/roles",
        json={"role": "official", "eventId": 999},
        headers=world.auth("admin"),
    )
    assert unknown_event.status_code == 422
    assert unknown_event.json()["errors"][0]["field"] == "eventId"
    assert await _counts(world) == before


async def test_naive_times_are_refused(world: World) -> None:
    response = await world.client.post(
        "/events",
        json={
            "name": "E",
            "startDate": "2025-09-01T08:00:00",
            "endDate": "2025-09-01T18:00:00Z",
            "organizationId": world.ids["org_a"],
        },
        headers=world.auth("organizer"),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "startDate"


async def test_bad_classification_paths_name_the_parameter(world: World) -> None:
    """Declare and withdraw take no body: what they can get wrong is in the path."""
    before = await _counts(world)
    ids = all_ids(world)
    base = f"/events/{ids['private']}/sessions"
    url = f"{base}/{ids['private_race']}/classification"
    organizer = world.auth("organizer")
    for method, path, field in (
        ("POST", f"{base}/x/classification/declare", "sessionId"),
        ("POST", f"{base}/0/classification/declare", "sessionId"),
        ("DELETE", f"{url}/corrections/abc", "correctionId"),
        ("DELETE", f"{url}/corrections/-1", "correctionId"),
        ("GET", f"{base}/{ids['private_race']}/results?format=doc", "format"),
    ):
        reply = await world.client.request(method, path, headers=organizer)
        _assert_names_problem(reply, field)
        assert reply.status_code == 422
    unknown = await world.client.delete(f"{url}/corrections/999", headers=organizer)
    assert unknown.status_code == 404 and "no correction 999" in unknown.json()["detail"]
    assert await _counts(world) == before
