"""The demo's cars send telemetry too: 20 Hz of speed, throttle, brake, rpm, gear and lat/lon
per car, posted as line protocol to ``/api/v2/write`` with an API token, as a logger would.

Each car's place on the lap follows its crossings in the simulated feed, paced like the feed,
so the channels line up with the laps the timing shows (and ``/telemetry``'s lap overlay).
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence

import httpx

from trackside.accounts import people
from trackside.commands.demo_race import TimedLine
from trackside.errors import NotFound
from trackside.feeds.lineprotocol import Point, format_point
from trackside.platform import Platform
from trackside.sim import telemetry as sim
from trackside.telemetry import tokens

RATE_HZ = 20
POST_EVERY_S = 0.5
DEMO_LOGGER = "demo-logger"


async def logger_token(platform: Platform) -> str:
    """An API token of the demo's level-5 logger account (made on first use)."""
    async with platform.db_factory() as db:
        try:
            user = await people.by_username(db, DEMO_LOGGER)
        except NotFound:  # nobody logs in as the logger: its password is thrown away
            user = await people.register_without_email(
                platform, db, username=DEMO_LOGGER, password=secrets.token_urlsafe(24)
            )
            await people.set_level(db, user, 5)
            await db.commit()
        _, token = await tokens.create(db, user.id, f"demo {time.strftime('%H:%M:%S')}")
        return token


class TelemetryFeeder:
    """Samples every car at RATE_HZ of wall time and posts them every POST_EVERY_S."""

    def __init__(
        self, http: httpx.AsyncClient, token: str, event_id: int, feed: Sequence[TimedLine]
    ) -> None:
        self._http = http
        self._headers = {"Authorization": f"Token {token}"}
        self._event = event_id
        self._laps = sim.crossings((item.at_ms, item.line) for item in feed)
        self._end_ms = feed[-1].at_ms if feed else 0
        self.points = 0

    def lines(self, feed_ms: int, at_ns: int) -> list[str]:
        return [
            format_point(
                Point("car", (("car", number), ("event", str(self._event))), fields, at_ns)
            )
            for number, fields in sim.sample(self._laps, feed_ms)
        ]

    async def run(
        self,
        speed: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """Until the feed ends; ``speed`` as the timing feed is driven (feed ms per wall ms)."""
        started = clock()
        wall0_ns = time.time_ns()
        step = 1 / RATE_HZ
        sampled = 0  # samples taken so far
        while True:
            await sleep(POST_EVERY_S)
            elapsed = clock() - started
            lines: list[str] = []
            while sampled * step <= elapsed:
                wall_s = sampled * step
                lines += self.lines(int(wall_s * speed * 1000), wall0_ns + int(wall_s * 1e9))
                sampled += 1
            if lines:
                await self._post(lines, sleep)
                self.points += len(lines)
            if elapsed * speed * 1000 > self._end_ms:
                return

    async def _post(self, lines: list[str], sleep: Callable[[float], Awaitable[None]]) -> None:
        while True:
            response = await self._http.post(
                "/api/v2/write",
                params={"org": "demo", "bucket": "telemetry", "precision": "ns"},
                content="\n".join(lines),
                headers=self._headers,
            )
            if response.status_code != 429:
                response.raise_for_status()
                return
            await sleep(float(response.headers.get("Retry-After", "1")))
