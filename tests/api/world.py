"""A small populated trackside for API tests: two organizations, events, people and machines.

Built through the services (not HTTP) so each test starts in milliseconds; tokens are minted
by the server's own issuer, as a login would.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from trackside.accounts import clients, logins
from trackside.accounts import people as accounts
from trackside.accounts.models import User
from trackside.accounts.principals import client_grant
from trackside.accounts.roles import Role
from trackside.controllog import source as controllog_config
from trackside.events import entries, ingest
from trackside.events import service as events
from trackside.events.models import Entry, EventClass, RaceSession
from trackside.platform import Platform
from trackside.telemetry import tokens as telemetry_tokens

ISS = "http://test/realms/trackside"
PASSWORD = "correct horse battery"


@dataclass
class World:
    platform: Platform
    client: httpx.AsyncClient
    ids: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    secrets: dict[str, tuple[str, str]] = field(default_factory=dict)  # name → (id, secret)

    def auth(self, who: str | None) -> dict[str, str]:
        return {} if who is None else {"Authorization": f"Bearer {self.tokens[who]}"}


def _when(day: int, hour: int = 9) -> datetime:
    return datetime(2025, 6, day, hour, tzinfo=UTC)


async def build(platform: Platform, client: httpx.AsyncClient) -> World:
    world = World(platform, client)
    async with platform.db_factory() as s:
        org_a = await events.create_organization(s, {"name": "Club A", "description": "runs A"})
        org_b = await events.create_organization(s, {"name": "Club B", "description": "runs B"})
        public = await events.create_event(
            s,
            {
                "organization_id": org_a.id,
                "name": "Summer Enduro",
                "start_date": _when(1),
                "end_date": _when(2, 18),
                "location": "Road Atlanta",
                "visibility": "public",
            },
        )
        private = await events.create_event(
            s,
            {
                "organization_id": org_a.id,
                "name": "Test Day",
                "start_date": _when(5),
                "end_date": _when(5, 17),
                "location": "Sebring",
                "visibility": "private",
            },
        )
        race_class = await entries.create(s, EventClass, public, {"name": "GT"})
        race = await entries.create(
            s,
            RaceSession,
            public,
            {"name": "Race 1", "type": "race", "start_time": _when(2, 13), "end_time": None},
        )
        entry = await entries.create(
            s,
            Entry,
            public,
            {
                "number": "7",
                "driver_name": "Ana Diaz",
                "team_name": "Diaz Racing",
                "class_id": race_class.id,
                "transponder": "1234567",
            },
        )
        # The public event reads its race-control log with its own columns (uploads only).
        await controllog_config.put(
            s, public.id, controllog_config.SourceSpec(url=None, interval_s=30.0)
        )
        world.ids.update(
            org_a=org_a.id,
            org_b=org_b.id,
            public=public.id,
            private=private.id,
            race_class=race_class.id,
            race=race.id,
            entry=entry.id,
        )
        people = {
            "admin": (Role.ADMIN, None, None),
            "organizer": (Role.ORGANIZER, org_a.id, None),
            "other_organizer": (Role.ORGANIZER, org_b.id, None),
            "official": (Role.OFFICIAL, None, public.id),
            "viewer": (None, None, None),
        }
        for name, (role, org, event) in people.items():
            user = await accounts.create(
                platform,
                s,
                username=name,
                email=f"{name}@example.org",
                password=PASSWORD,
                verified=True,
            )
            if role is not None:
                await accounts.grant(s, user, role, organization_id=org, event_id=event)
            world.users[name] = user
        # A level-5 account: the telemetry platform's writers.
        world.users["telemetry_writer"] = await accounts.create(
            platform,
            s,
            username="telemetry_writer",
            email="telemetry_writer@example.org",
            password=PASSWORD,
            verified=True,
            telemetry_level=5,
        )
        await s.commit()
        for name, user in world.users.items():
            world.tokens[name] = logins.access_token(platform, user, ISS)
        token, _ = await telemetry_tokens.create(s, world.users["telemetry_writer"].id, "logger")
        world.ids["telemetry_token"] = token.id
        two_hours_ago = datetime.now(UTC) - timedelta(hours=2)
        world.tokens["expired"] = logins.access_token(
            platform, world.users["admin"], ISS, two_hours_ago
        )
        for name, role, event in (
            ("relay", Role.OFFICIAL, public.id),
            ("partner", Role.VIEWER, None),
        ):
            made = await clients.create(s, name=name, role=role, event_id=event)
            world.secrets[name] = (made.client.client_id, made.secret)
            world.tokens[f"client_{name}"] = platform.tokens.for_client(
                client_id=made.client.client_id,
                grant=client_grant(made.client),
                scope="profile email",
                client_address="127.0.0.1",
                iss=ISS,
            )
    # A few timing records in the private event's log: it has a live session and results.
    async with platform.db_factory() as s:
        await ingest.append(
            s,
            platform.event_locks,
            private.id,
            "rmonitor",
            [
                ingest.IncomingRecord(seq, 1_745_000_000_000 + seq, "rmonitor", line)
                for seq, line in enumerate(PRIVATE_FEED, start=1)
            ],
        )
    processor = await platform.processors.record_arrived(private.id)
    private_race = processor.session_id_of(0)
    assert private_race is not None
    world.ids["private_race"] = private_race
    # An official's correction of that race, for the routes that withdraw one.
    async with platform.db_factory() as s:
        fix = {"car": "9", "kind": "time_penalty", "ms": 5000, "reason": "jump start"}
        made = await platform.classification.correct(s, private, private_race, "organizer", fix)
    world.ids["private_correction"] = made["id"]
    return world


PRIVATE_FEED = [
    '$B,3,"Test Race"',
    '$C,1,"GT"',
    '$A,"9","9",12345,"Nine","Racing","",1',
    '$G,1,"9",,"00:00:00.000"',
    '$F,9999,"00:10:00","10:00:00","00:00:00","Green "',
    '$J,"9","00:01:40.000","00:01:45.000"',
    '$G,1,"9",1,"00:01:45.000"',
]


def fill(value: Any, ids: dict[str, int]) -> Any:
    """Put world ids into a path or body: ``"{public}"`` alone is the int, inside text formatted."""
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return ids[value[1:-1]]
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {k: fill(v, ids) for k, v in value.items()}
    return value


def all_ids(world: World) -> dict[str, int]:
    """Record ids, each user's id by name, and the official's grant."""
    ids = {**world.ids, **{name: user.id for name, user in world.users.items()}}
    ids["official_grant"] = world.users["official"].grants[0].id
    return ids
