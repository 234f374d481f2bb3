"""The demo: a live race driven through the relay API, exactly as a track would send it.

The feed comes from the built-in race simulator (or a capture). A machine client with the
official role is made for a fresh public event, gets its token from the OAuth2 endpoint, and
posts the feed in batches paced by the feed's own clock, so every screen sees a real live race:
ingest, durable log, processor, patches, fan-out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import select

from trackside.accounts import clients
from trackside.accounts.roles import Role
from trackside.events import service as events
from trackside.events.models import Event, Organization
from trackside.feeds.capture import decode_lines, read_header
from trackside.platform import Platform

DEMO_ORGANIZATION = "trackside demo club"
BATCH_WINDOW_MS = 250  # lines the timing system sent within this window go as one batch


@dataclass(frozen=True, slots=True)
class TimedLine:
    at_ms: int  # feed time: milliseconds since the feed began
    line: str


def simulated_feed(seed: int, minutes: float) -> list[TimedLine]:
    from trackside.sim import SimConfig, simulate

    duration = int(minutes * 60_000)
    # A full-course yellow of up to four minutes, shorter in a short race so it fits.
    race = simulate(
        SimConfig(seed=seed, duration_ms=duration, yellow_ms=min(240_000, duration // 6))
    )
    return [TimedLine(item.at_ms, item.line) for item in race.lines]


def capture_feed(paths: Sequence[Path]) -> list[TimedLine]:
    """The RMonitor lines of captures, timed by their blocks' receive times."""
    out: list[TimedLine] = []
    first: int | None = None
    last = 0
    for path in paths:
        received: int | None = None
        for line in decode_lines(path.read_bytes()):
            if line.startswith("##"):
                header = read_header(line)
                if header is not None:
                    received = header[0]
                continue
            if received is not None:
                first = received if first is None else first
                last = max(last, received - first)  # blocks are not always in time order
            out.append(TimedLine(last, line))
    return out


def batches(feed: Sequence[TimedLine], window_ms: int = BATCH_WINDOW_MS) -> list[list[TimedLine]]:
    groups: list[list[TimedLine]] = []
    for item in feed:
        if groups and item.at_ms - groups[-1][0].at_ms < window_ms:
            groups[-1].append(item)
        else:
            groups.append([item])
    return groups


@dataclass(slots=True)
class DemoEvent:
    event_id: int
    client_id: str
    client_secret: str


async def create_demo_event(platform: Platform, name: str) -> DemoEvent:
    """A public event in the demo organization, and an official relay client bound to it."""
    async with platform.db_factory() as db:
        org = await db.scalar(select(Organization).where(Organization.name == DEMO_ORGANIZATION))
        if org is None:
            org = await events.create_organization(
                db,
                {"name": DEMO_ORGANIZATION, "description": "Events made by `trackside demo`."},
            )
        now = datetime.now(UTC)
        event: Event = await events.create_event(
            db,
            {
                "organization_id": org.id,
                "name": name,
                "start_date": now,
                "end_date": now + timedelta(hours=6),
                "location": "trackside demo",
                "visibility": "public",
            },
        )
        made = await clients.create(
            db, name=f"demo-relay-{event.id}", role=Role.OFFICIAL, event_id=event.id
        )
        await db.commit()
        return DemoEvent(event.id, made.client.client_id, made.secret)


class RelayClient:
    """Posts the feed to the relay API with a client-credentials token, renewed when refused."""

    def __init__(self, http: httpx.AsyncClient, demo: DemoEvent, realm: str) -> None:
        self._http = http
        self._demo = demo
        self._realm = realm
        self._token: str | None = None
        self.seq = 0

    async def _renew(self) -> None:
        response = await self._http.post(
            f"/realms/{self._realm}/protocol/openid-connect/token",
            data={
                "grant_type": "client_credentials",
                "client_id": self._demo.client_id,
                "client_secret": self._demo.client_secret,
            },
        )
        response.raise_for_status()
        self._token = response.json()["access_token"]

    async def post(self, lines: Sequence[TimedLine], received_at_ms: int) -> None:
        records = []
        for item in lines:
            self.seq += 1
            records.append(
                {
                    "seq": self.seq,
                    "received_at": received_at_ms,
                    "type": "rmonitor",
                    "data": item.line,
                }
            )
        body = {"source": "demo-feed", "records": records}
        for _attempt in range(3):
            if self._token is None:
                await self._renew()
            response = await self._http.post(
                f"/relay/events/{self._demo.event_id}/records",
                json=body,
                headers={"Authorization": f"Bearer {self._token}"},
            )
            if response.status_code == 401:
                self._token = None
                continue
            if response.status_code == 429:
                await asyncio.sleep(float(response.headers.get("Retry-After", "1")))
                continue
            response.raise_for_status()
            return
        response.raise_for_status()


async def drive(
    relay: RelayClient,
    feed: Sequence[TimedLine],
    speed: float | None,
    clock: Callable[[], float],
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    on_batch: Callable[[int, int], None] | None = None,
) -> None:
    """Post the feed batch by batch, at ``speed`` times the feed's pace (None: at once)."""
    groups = batches(feed)
    started = clock()
    for index, group in enumerate(groups, start=1):
        if speed is not None:
            wait = group[0].at_ms / 1000 / speed - (clock() - started)
            if wait > 0:
                await sleep(wait)
        now_ms = int(datetime.now(UTC).timestamp() * 1000)
        await relay.post(group, now_ms)
        if on_batch is not None:
            on_batch(index, len(groups))
