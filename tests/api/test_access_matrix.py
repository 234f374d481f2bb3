"""Each route with no token, an expired one, a wrong role, the right role: 401, 401, 403, 2xx.

The route list comes from the app itself, so a new route without a row here fails the suite.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI

from tests.api.world import World, all_ids, fill


@dataclass(frozen=True)
class Case:
    path: str  # with {world ids} to fill in
    right: str
    wrong: str | None  # None: every authenticated caller may
    status: int
    body: Any = None
    csv: str | None = None  # sent as text/csv instead of a JSON body


EVENT = {
    "name": "Autumn Sprint",
    "startDate": "2025-09-01T08:00:00Z",
    "endDate": "2025-09-01T18:00:00+02:00",
    "location": "Lime Rock",
    "organizationId": "{org_a}",
}
SESSION = {"name": "Practice 1", "type": "practice", "startTime": "2025-06-01T10:00:00Z"}

MATRIX: dict[tuple[str, str], Case] = {
    ("GET", "/organization"): Case("/organization", "viewer", None, 200),
    ("GET", "/organization/{organizationId}"): Case(
        "/organization/{org_a}", "client_partner", None, 200
    ),
    ("POST", "/organization"): Case("/organization", "admin", "organizer", 201, {"name": "C"}),
    ("PATCH", "/organization/{organizationId}"): Case(
        "/organization/{org_a}", "organizer", "other_organizer", 200, {"description": "x"}
    ),
    ("DELETE", "/organization/{organizationId}"): Case(
        "/organization/{org_b}", "admin", "other_organizer", 204
    ),
    ("GET", "/events"): Case("/events", "client_partner", None, 200),
    ("GET", "/events/{eventId}"): Case("/events/{private}", "organizer", "viewer", 200),
    ("POST", "/events"): Case("/events", "organizer", "other_organizer", 201, EVENT),
    ("PATCH", "/events/{eventId}"): Case(
        "/events/{public}", "organizer", "official", 200, {"location": "Watkins Glen"}
    ),
    ("DELETE", "/events/{eventId}"): Case("/events/{private}", "admin", "viewer", 204),
    ("GET", "/events/{eventId}/sessions"): Case(
        "/events/{private}/sessions", "organizer", "client_partner", 200
    ),
    ("GET", "/events/{eventId}/sessions/{sessionId}"): Case(
        "/events/{public}/sessions/{race}", "viewer", None, 200
    ),
    ("POST", "/events/{eventId}/sessions"): Case(
        "/events/{public}/sessions", "official", "viewer", 201, SESSION
    ),
    ("PATCH", "/events/{eventId}/sessions/{sessionId}"): Case(
        "/events/{public}/sessions/{race}", "client_relay", "other_organizer", 200, {"name": "R"}
    ),
    ("DELETE", "/events/{eventId}/sessions/{sessionId}"): Case(
        "/events/{public}/sessions/{race}", "official", "client_partner", 204
    ),
    ("GET", "/events/{eventId}/classes"): Case(
        "/events/{private}/classes", "admin", "other_organizer", 200
    ),
    ("GET", "/events/{eventId}/classes/{classId}"): Case(
        "/events/{public}/classes/{race_class}", "viewer", None, 200
    ),
    ("POST", "/events/{eventId}/classes"): Case(
        "/events/{public}/classes", "organizer", "viewer", 201, {"name": "Proto"}
    ),
    ("PATCH", "/events/{eventId}/classes/{classId}"): Case(
        "/events/{public}/classes/{race_class}", "official", "viewer", 200, {"name": "GT3"}
    ),
    ("DELETE", "/events/{eventId}/classes/{classId}"): Case(
        "/events/{public}/classes/{race_class}", "organizer", "viewer", 204
    ),
    ("GET", "/events/{eventId}/entries"): Case("/events/{public}/entries", "viewer", None, 200),
    ("GET", "/events/{eventId}/entries/{entryId}"): Case(
        "/events/{public}/entries/{entry}", "client_relay", None, 200
    ),
    ("POST", "/events/{eventId}/entries"): Case(
        "/events/{public}/entries",
        "official",
        "other_organizer",
        201,
        {"number": "12", "driverName": "Bo Li"},
    ),
    ("PATCH", "/events/{eventId}/entries/{entryId}"): Case(
        "/events/{public}/entries/{entry}", "organizer", "viewer", 200, {"transponder": "99"}
    ),
    ("DELETE", "/events/{eventId}/entries/{entryId}"): Case(
        "/events/{public}/entries/{entry}", "admin", "client_partner", 204
    ),
    ("POST", "/relay/events/{eventId}/records"): Case(
        "/relay/events/{public}/records",
        "client_relay",
        "client_partner",
        200,
        {
            "source": "rmonitor",
            "records": [
                {"seq": 1, "received_at": 1745000000000, "type": "rmonitor", "data": '$B,5,"R"'}
            ],
        },
    ),
    ("GET", "/relay/events/{eventId}/records/ack"): Case(
        "/relay/events/{public}/records/ack?source=rmonitor", "official", "viewer", 200
    ),
    # Live reads: public events need no token (tests/events/test_live.py); private ones do.
    ("GET", "/events/{eventId}/live"): Case("/events/{private}/live", "organizer", "viewer", 200),
    ("GET", "/events/{eventId}/sessions/{sessionId}/results"): Case(
        "/events/{private}/sessions/{private_race}/results", "admin", "client_partner", 200
    ),
    ("GET", "/events/{eventId}/live/sessions/{index}/charts/{kind}.svg"): Case(
        "/events/{private}/live/sessions/0/charts/positions.svg", "organizer", "official", 200
    ),
    ("GET", "/events/{eventId}/diagnostics"): Case(
        "/events/{public}/diagnostics", "official", "viewer", 200
    ),
    # Track side: loops are read by the event's readers; the control log by anyone who may
    # watch the event (public ones need no token: tests/events/test_track_api.py).
    ("GET", "/events/{eventId}/loops"): Case("/events/{private}/loops", "organizer", "viewer", 200),
    ("PUT", "/events/{eventId}/loops"): Case(
        "/events/{public}/loops",
        "official",
        "other_organizer",
        200,
        {"loops": [{"name": "SF", "kind": "start_finish", "decoderId": "0x41813"}]},
    ),
    ("POST", "/events/{eventId}/control-log"): Case(
        "/events/{public}/control-log",
        "client_relay",
        "viewer",
        200,
        csv="Time,Car,Penalty\n10:00:00,7,Warning\n",
    ),
    ("GET", "/events/{eventId}/control-log"): Case(
        "/events/{private}/control-log", "organizer", "client_partner", 200
    ),
    ("GET", "/events/{eventId}/control-log/source"): Case(
        "/events/{public}/control-log/source", "official", "viewer", 200
    ),
    ("PUT", "/events/{eventId}/control-log/source"): Case(
        "/events/{public}/control-log/source",
        "organizer",
        "other_organizer",
        200,
        {
            "url": None,
            "columns": {"cars": ["Car 1", "Car 2"]},
            "penaltyRules": [{"pattern": "DT", "outcome": "black_flag"}],
        },
    ),
    ("DELETE", "/events/{eventId}/control-log/source"): Case(
        "/events/{public}/control-log/source", "admin", "client_partner", 204
    ),
    ("GET", "/auth/me"): Case("/auth/me", "viewer", "client_partner", 200),
    ("GET", "/me"): Case("/me", "official", "client_relay", 200),
    ("GET", "/users"): Case("/users", "admin", "organizer", 200),
    ("POST", "/users/{userId}/roles"): Case(
        "/users/{viewer}/roles", "admin", "organizer", 200, {"role": "judge", "eventId": "{public}"}
    ),
    ("DELETE", "/users/{userId}/roles/{grantId}"): Case(
        "/users/{official}/roles/{official_grant}", "admin", "official", 200
    ),
    ("PUT", "/users/{userId}/telemetry-level"): Case(
        "/users/{viewer}/telemetry-level", "admin", "viewer", 200, {"telemetryLevel": 5}
    ),
    # Telemetry: level 5 writes (every role is level 1 unless raised); any account reads.
    ("POST", "/write"): Case(
        "/write", "telemetry_writer", "admin", 200, {"measurement": "m", "fields": {"v": 1}}
    ),
    ("POST", "/write-graph"): Case(
        "/write-graph", "telemetry_writer", "viewer", 200, {"timestamp": 1733346000, "value": 1}
    ),
    ("POST", "/write-simple"): Case("/write-simple?query=hi", "telemetry_writer", "viewer", 200),
    ("POST", "/api/v2/write"): Case(
        "/api/v2/write?org=racecar&bucket=telemetry",
        "telemetry_writer",
        "organizer",
        204,
        csv="car,car=7 speed=212.5 1733346000000000000",
    ),
    ("POST", "/api/telemetry/tokens"): Case(
        "/api/telemetry/tokens", "telemetry_writer", "viewer", 201, {"name": "logger"}
    ),
    ("GET", "/api/telemetry/tokens"): Case(
        "/api/telemetry/tokens", "telemetry_writer", "admin", 200
    ),
    ("DELETE", "/api/telemetry/tokens/{tokenId}"): Case(
        "/api/telemetry/tokens/{telemetry_token}", "telemetry_writer", "viewer", 204
    ),
    ("GET", "/api/telemetry/query"): Case(
        "/api/telemetry/query?measurement=car", "viewer", None, 200
    ),
    ("GET", "/query"): Case("/query?db=telemetry&q=SHOW+MEASUREMENTS", "client_partner", None, 200),
    ("POST", "/query"): Case(
        "/query?q=CREATE+DATABASE+telegraf", "telemetry_writer", "viewer", 200
    ),
    ("GET", "/events/{eventId}/sessions/{sessionId}/cars/{number}/telemetry"): Case(
        "/events/{private}/sessions/{private_race}/cars/9/telemetry?lap=1",
        "organizer",
        "viewer",
        200,
    ),
    ("GET", "/api/telemetry/measurements"): Case(
        "/api/telemetry/measurements", "client_partner", None, 200
    ),
}

# Routes anyone may call: probes, docs, and the ways to get a token in the first place.
DOCS = {("GET", "/openapi.json"), ("GET", "/docs"), ("GET", "/docs/oauth2-redirect")}
PUBLIC = DOCS | {
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("POST", "/auth/register"),
    ("GET", "/auth/verify"),
    ("POST", "/auth/login"),
    ("POST", "/api/token/"),
    ("POST", "/login"),
    ("POST", "/auth/refresh"),
    ("POST", "/api/token/refresh/"),
    ("POST", "/auth/password-reset"),
    ("GET", "/auth/password-reset/confirm"),
    ("POST", "/auth/password-reset/confirm"),
    ("POST", "/realms/{realm}/protocol/openid-connect/token"),
    ("POST", "/oauth/token"),
    ("GET", "/realms/{realm}/.well-known/openid-configuration"),
    ("GET", "/realms/{realm}/protocol/openid-connect/certs"),
    ("POST", "/event-status/negotiate"),  # the SignalR hub: private events refuse subscribing
    ("POST", "/register"),  # the telemetry platform's shape of /auth/register
    ("GET", "/ping"),  # InfluxDB's probe
}


def _routes(app: FastAPI) -> set[tuple[str, str]]:
    """Every operation the OpenAPI document lists, plus the docs pages themselves."""
    found = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }
    return found | DOCS


def test_every_route_has_an_owner(app: FastAPI) -> None:
    routes = _routes(app)
    assert routes - MATRIX.keys() - PUBLIC == set(), "routes with no access rule in the matrix"
    assert (MATRIX.keys() | PUBLIC) - routes == set(), "matrix rows for routes that do not exist"


@pytest.mark.parametrize("route", sorted(MATRIX), ids=lambda r: f"{r[0]} {r[1]}")
async def test_access(world: World, route: tuple[str, str]) -> None:
    method, _ = route
    case = MATRIX[route]
    ids = all_ids(world)
    path = fill(case.path, ids)
    body = fill(case.body, ids)

    async def call(who: str | None):
        if case.csv is not None:
            headers = {**world.auth(who), "Content-Type": "text/csv"}
            return await world.client.request(method, path, content=case.csv, headers=headers)
        return await world.client.request(method, path, json=body, headers=world.auth(who))

    anonymous = await call(None)
    assert anonymous.status_code == 401, anonymous.text
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    assert "detail" in anonymous.json()

    expired = await call("expired")
    assert expired.status_code == 401, expired.text
    assert 'error="invalid_token"' in expired.headers["www-authenticate"]

    if case.wrong is not None:
        refused = await call(case.wrong)
        assert refused.status_code == 403, refused.text
        assert refused.json()["detail"]

    allowed = await call(case.right)
    assert allowed.status_code == case.status, allowed.text
