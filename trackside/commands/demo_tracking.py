"""``trackside demo --tracking``: a tracked event with a simulated field on its live map.

Each simulated participant is an account with a phone that sends its position once a second
over ``/ws/location/``, as a tracker app would; the course has a start and a half-way
checkpoint, so the splits fill in as the field goes round.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import orjson
import websockets
from sqlalchemy import select

from trackside.accounts import logins
from trackside.accounts import people as accounts
from trackside.commands.demo_race import DEMO_ORGANIZATION
from trackside.events import service as events
from trackside.events.models import Organization
from trackside.platform import Platform
from trackside.sim.tracking import EARTH_RADIUS_M, LatLon, SimulatedField
from trackside.tracking import course, service
from trackside.tracking.course import CheckpointSpec


@dataclass(frozen=True, slots=True)
class TrackingDemo:
    event_id: int
    tokens: dict[str, str]  # participant name → access token


async def create_tracking_event(
    platform: Platform, name: str, sim: SimulatedField, iss: str
) -> TrackingDemo:
    """A public event with a public map, its course, and one tracked account per mover."""
    async with platform.db_factory() as db:
        org = await db.scalar(select(Organization).where(Organization.name == DEMO_ORGANIZATION))
        if org is None:
            org = await events.create_organization(
                db, {"name": DEMO_ORGANIZATION, "description": "Events made by `trackside demo`."}
            )
        now = datetime.now(UTC)
        event = await events.create_event(
            db,
            {
                "organization_id": org.id,
                "name": name,
                "start_date": now - timedelta(minutes=5),
                "end_date": now + timedelta(hours=6),
                "location": "trackside demo",
                "visibility": "public",
            },
        )
        await service.put_settings(db, event.id, map_public=True, retention_days=1)
        await course.put(
            db,
            event.id,
            [
                CheckpointSpec("Start", "line", gate(sim, 250.0), None, None),
                CheckpointSpec("Half way", "line", gate(sim, sim.length_m / 2), None, None),
                CheckpointSpec("Lap", "line", gate(sim, sim.length_m - 50), None, None),
            ],
        )
        tokens = {}
        for mover in sim.movers:
            username = f"e{event.id}-{mover.name}"
            user = await accounts.create(
                platform,
                db,
                username=username,
                email=f"{username}@demo.invalid",
                password=f"demo-{username}-{time.time_ns()}",
                verified=True,
            )
            await db.commit()
            await service.add_participant(db, event.id, username)
            tokens[mover.name] = logins.access_token(platform, user, iss)
        platform.tracking.participants_changed()
        return TrackingDemo(event.id, tokens)


def gate(sim: SimulatedField, distance_m: float, width_m: float = 160.0) -> list[LatLon]:
    """A line across the course ``distance_m`` along it (wide: phones report every second)."""
    (lat, lon), heading = sim.along(distance_m)
    across = math.radians(heading + 90)
    half = width_m / 2 / EARTH_RADIUS_M
    north = math.degrees(half * math.cos(across))
    east = math.degrees(half * math.sin(across)) / math.cos(math.radians(lat))
    return [(lat - north, lon - east), (lat + north, lon + east)]


async def drive(
    ws_base: str,
    demo: TrackingDemo,
    sim: SimulatedField,
    speed: float,
    minutes: float,
    on_tick: Callable[[float, int], None] | None = None,
) -> int:
    """Every participant sends a fix a second (the field moves ``speed`` times faster) until
    ``minutes`` of simulated time have passed; returns the fixes acknowledged as saved."""
    sockets = {}
    for mover in sim.movers:
        url = f"{ws_base}/ws/location/?token={demo.tokens[mover.name]}"
        sockets[mover.name] = await websockets.connect(url)
    saved = 0
    try:
        began = time.monotonic()
        tick = 0
        while True:
            t = (time.monotonic() - began) * speed
            if t > minutes * 60:
                break
            for mover in sim.movers:
                p = sim.position(mover, t)
                message = {
                    "type": "location_update",
                    "latitude": p.lat,
                    "longitude": p.lon,
                    "speed": p.speed,
                    "heading": p.heading,
                    "battery": p.battery,
                }
                await sockets[mover.name].send(orjson.dumps(message).decode())
            for mover in sim.movers:
                reply = orjson.loads(await sockets[mover.name].recv())
                saved += bool(reply.get("success"))
            tick += 1
            if on_tick is not None:
                on_tick(t, saved)
            await asyncio.sleep(max(0.0, began + tick - time.monotonic()))
    finally:
        for socket in sockets.values():
            await socket.close()
    return saved
