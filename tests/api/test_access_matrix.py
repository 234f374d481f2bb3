"""Each route with no token, an expired one, a wrong role, the right role: 401, 401, 403, 2xx.

The route list comes from the app itself, so a new route without a row here fails the suite.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI

from tests.api.world import World, all_ids, fill
from tests.judging.world import add_judging


@dataclass(frozen=True)
class Case:
    path: str  # with {world ids} to fill in
    right: str
    wrong: str | None  # None: every authenticated caller may
    status: int
    body: Any = None
    csv: str | None = None  # sent as text/csv instead of a JSON body
    setup: Callable[[World], Awaitable[None]] | None = None  # adds what the row needs


def judged(*args: Any, **options: Any) -> Case:
    """A judging row: the world gets judges, competitions and teams first."""
    return Case(*args, setup=add_judging, **options)


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
    # The official classification: the event's readers read it, officials and organizers decide.
    ("GET", "/events/{eventId}/sessions/{sessionId}/classification"): Case(
        "/events/{private}/sessions/{private_race}/classification",
        "organizer",
        "client_partner",
        200,
    ),
    ("GET", "/events/{eventId}/sessions/{sessionId}/classification/versions"): Case(
        "/events/{private}/sessions/{private_race}/classification/versions", "admin", "viewer", 200
    ),
    ("POST", "/events/{eventId}/sessions/{sessionId}/classification/declare"): Case(
        "/events/{private}/sessions/{private_race}/classification/declare",
        "organizer",
        "official",
        200,
    ),
    ("POST", "/events/{eventId}/sessions/{sessionId}/classification/corrections"): Case(
        "/events/{private}/sessions/{private_race}/classification/corrections",
        "admin",
        "viewer",
        201,
        {"car": "9", "kind": "laps", "laps": -1, "reason": "short cut"},
    ),
    (
        "DELETE",
        "/events/{eventId}/sessions/{sessionId}/classification/corrections/{correctionId}",
    ): Case(
        "/events/{private}/sessions/{private_race}/classification/corrections/{private_correction}",
        "organizer",
        "other_organizer",
        204,
    ),
    ("GET", "/events/{eventId}/diagnostics"): Case(
        "/events/{public}/diagnostics", "official", "viewer", 200
    ),
    # Track side: loops are read by the event's readers; the control log by anyone who may
    # watch the event (public ones need no token: tests/events/test_track_api.py).
    ("GET", "/events/{eventId}/log"): Case(
        "/events/{public}/log?format=jsonl", "official", "viewer", 200
    ),
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
    # Judging: organizers and the event's officials run competitions; judges may not.
    ("POST", "/events/{eventId}/judges"): judged(
        "/events/{public}/judges", "organizer", "judge", 201, {"username": "viewer"}
    ),
    ("GET", "/events/{eventId}/judges"): judged(
        "/events/{public}/judges", "official", "judge", 200
    ),
    ("POST", "/events/{eventId}/competitions"): judged(
        "/events/{public}/competitions",
        "organizer",
        "other_organizer",
        201,
        {"name": "5K", "scheduledStart": "2025-06-02T10:00:00Z"},
    ),
    ("GET", "/events/{eventId}/competitions"): judged(
        "/events/{public}/competitions", "official", "judge", 200
    ),
    ("GET", "/events/{eventId}/competitions/{competitionId}"): judged(
        "/events/{public}/competitions/{competition}", "organizer", "judge", 200
    ),
    ("POST", "/events/{eventId}/competitions/{competitionId}/teams"): judged(
        "/events/{public}/competitions/{competition}/teams",
        "organizer",
        "judge",
        201,
        {"name": "Harriers", "number": "77", "judgeId": "{judge_profile}"},
    ),
    ("GET", "/events/{eventId}/competitions/{competitionId}/teams"): judged(
        "/events/{public}/competitions/{competition}/teams", "official", "other_organizer", 200
    ),
    ("PATCH", "/events/{eventId}/competitions/{competitionId}/teams/{teamId}"): judged(
        "/events/{public}/competitions/{competition}/teams/{team}",
        "organizer",
        "judge",
        200,
        {"judgeId": "{other_judge_profile}"},
    ),
    (
        "DELETE",
        "/events/{eventId}/competitions/{competitionId}/teams/{teamId}/records/{recordId}",
    ): judged(
        "/events/{public}/competitions/{running_competition}/teams/"
        "{running_competition_judge_team}/records/tap-1",
        "official",
        "judge",
        204,
    ),
    ("POST", "/events/{eventId}/competitions/{competitionId}/start"): judged(
        "/events/{public}/competitions/{competition}/start", "official", "judge", 200
    ),
    ("POST", "/events/{eventId}/competitions/{competitionId}/stop"): judged(
        "/events/{public}/competitions/{running_competition}/stop", "organizer", "judge", 200
    ),
    ("GET", "/events/{eventId}/competitions/{competitionId}/results"): judged(
        "/events/{public}/competitions/{running_competition}/results",
        "organizer",
        "other_organizer",
        200,
    ),
    ("POST", "/api/enviar_tiempos/"): judged(
        "/api/enviar_tiempos/",
        "judge",
        "other_judge",
        201,
        {
            "equipo_id": "{running_competition_judge_team}",
            "registros": [{"timestamp": "2025-06-02T10:20:00Z", "tiempo": 1}],
        },
    ),
    ("GET", "/api/competencias/"): judged("/api/competencias/", "judge", None, 200),
    ("GET", "/api/competencias/{competition_id}/"): judged(
        "/api/competencias/{competition}/", "judge", None, 200
    ),
    ("GET", "/api/equipos/"): judged("/api/equipos/", "judge", None, 200),
    ("POST", "/api/competencias/{competition_id}/iniciar/"): judged(
        "/api/competencias/{competition}/iniciar/", "organizer", "judge", 200
    ),
    ("POST", "/api/competencias/{competition_id}/detener/"): judged(
        "/api/competencias/{running_competition}/detener/", "official", "judge", 200
    ),
    # Location tracking (tests/tracking/): a user account's own fixes; machines have none.
    ("GET", "/api/auth/user/"): Case("/api/auth/user/", "viewer", "client_partner", 200),
    ("POST", "/api/location-reports/"): Case(
        "/api/location-reports/", "viewer", "client_partner", 201, {"latitude": 1, "longitude": 2}
    ),
    ("GET", "/api/location-reports/"): Case(
        "/api/location-reports/", "official", "client_relay", 200
    ),
    ("GET", "/api/location-reports/latest/"): Case(
        "/api/location-reports/latest/", "organizer", "client_partner", 200
    ),
    ("POST", "/api/tracking/devices"): Case(
        "/api/tracking/devices", "viewer", "client_partner", 201, {}
    ),
    ("PUT", "/api/tracking/sharing"): Case(
        "/api/tracking/sharing", "viewer", "client_relay", 200, {"paused": True}
    ),
    ("POST", "/events/{eventId}/tracking/participants"): Case(
        "/events/{public}/tracking/participants",
        "organizer",
        "official",
        201,
        {"username": "viewer"},
    ),
    ("GET", "/events/{eventId}/tracking/settings"): Case(
        "/events/{private}/tracking/settings", "organizer", "viewer", 200
    ),
    ("PUT", "/events/{eventId}/tracking/settings"): Case(
        "/events/{public}/tracking/settings", "admin", "other_organizer", 200, {"mapPublic": True}
    ),
    # An event's map: its organizers and tracked participants (public when its settings say).
    ("GET", "/events/{eventId}/tracking/map"): Case(
        "/events/{public}/tracking/map", "organizer", "viewer", 200
    ),
    ("GET", "/events/{eventId}/tracking/checkpoints"): Case(
        "/events/{private}/tracking/checkpoints", "admin", "official", 200
    ),
    ("GET", "/events/{eventId}/tracking/splits"): Case(
        "/events/{private}/tracking/splits", "organizer", "viewer", 200
    ),
    ("PUT", "/events/{eventId}/tracking/checkpoints"): Case(
        "/events/{public}/tracking/checkpoints",
        "organizer",
        "other_organizer",
        200,
        {"checkpoints": [{"name": "S", "kind": "circle", "center": [1, 2], "radiusM": 9}]},
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
    # iRacing: a user's own connection; 503 here because this app has no iRacing client id
    # (tests/iracing/ runs them configured, against the fake).
    ("GET", "/auth/iracing/start"): Case("/auth/iracing/start", "viewer", "client_partner", 503),
    ("GET", "/api/iracing/status"): Case("/api/iracing/status", "viewer", "client_relay", 503),
    ("DELETE", "/api/iracing/connection"): Case(
        "/api/iracing/connection", "organizer", "client_partner", 503
    ),
    ("POST", "/api/iracing/sync"): Case("/api/iracing/sync", "viewer", "client_partner", 503),
    ("GET", "/api/iracing/sessions"): Case("/api/iracing/sessions", "admin", "client_relay", 503),
    ("POST", "/api/iracing/sessions/{sessionId}/import"): Case(
        "/api/iracing/sessions/1/import?eventId={public}", "organizer", "client_partner", 503
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
    # dj-rest-auth's ways in (tests/tracking/test_seed_accounts.py); logout ends a login
    # by its refresh token, or only forgets the cookie.
    ("POST", "/api/auth/registration/"),
    ("POST", "/api/auth/registration/verify-email/"),
    ("POST", "/api/auth/login/"),
    ("POST", "/api/auth/logout/"),
    ("POST", "/api/auth/password/reset/"),
    ("POST", "/api/auth/password/reset/confirm/"),
    # Trackers authenticate their own way (tests/tracking/test_trackers.py): OwnTracks with
    # HTTP Basic, Traccar Client / OsmAnd with a registered device's id.
    ("POST", "/api/owntracks"),
    ("POST", "/pub"),
    ("GET", "/api/osmand"),
    ("POST", "/api/osmand"),
    ("POST", "/event-status/negotiate"),  # the SignalR hub: private events refuse subscribing
    ("GET", "/auth/iracing/callback"),  # iRacing's redirect: the single-use state names the user
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
    if case.setup is not None:
        await case.setup(world)
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
