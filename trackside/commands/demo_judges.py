"""The judges' demo: a manual 5K competition timed by simulated judges' phones.

Teams of 15 runners, one judge each. The judges are accounts with judge profiles; the
competition starts through the same service an organizer's button calls, and each judge taps
through the judges' app's own REST (``/api/token/``, ``POST /api/enviar_tiempos/`` with an
``id_registro`` per tap), paced by the simulated race, so the live board, the results and the
hub show the competition filling up exactly as a real one would. The runners' times come from a
seeded generator: the same seed, the same race.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

from trackside.accounts import people
from trackside.judging import records
from trackside.judging import service as judging
from trackside.platform import Platform
from trackside.timing.manual import RUNNERS

TEAMS = ("Harriers", "Gazelles", "Road Runners", "Pacers", "Striders", "Milers")


@dataclass(frozen=True, slots=True)
class Tap:
    at_ms: int  # race time the runner came in
    team: int  # index into the demo's teams


@dataclass(slots=True)
class JudgedDemo:
    competition_id: int
    usernames: list[str] = field(default_factory=list)
    team_ids: list[int] = field(default_factory=list)
    password: str = ""


def runner_taps(seed: int, minutes: float, teams: int = len(TEAMS)) -> list[Tap]:
    """Every runner of every team in, by race time: the fastest near half the length, the
    last near its end; some teams are quicker than others."""
    rng = random.Random(seed)
    length = minutes * 60_000
    out = []
    for team in range(teams):
        pace = rng.uniform(0.0, 0.15)
        for _ in range(RUNNERS):
            out.append(Tap(int(length * min(0.98, rng.uniform(0.45, 0.85) + pace)), team))
    return sorted(out, key=lambda tap: (tap.at_ms, tap.team))


async def create_judged_competition(platform: Platform, event_id: int) -> JudgedDemo:
    demo = JudgedDemo(0, password=secrets.token_urlsafe(12))
    async with platform.db_factory() as db:
        competition = await judging.create_competition(
            db, event_id, "Demo 5K (judges' phones)", datetime.now(UTC)
        )
        demo.competition_id = competition.id
        for index, name in enumerate(TEAMS, start=1):
            username = f"judge{index}-e{event_id}"
            await people.create(
                platform, db, username=username, email=f"{username}@demo.invalid",
                password=demo.password, verified=True,
            )  # fmt: skip
            await db.commit()
            judge = await judging.add_judge(db, event_id, username)
            team = await judging.add_team(db, competition, name, str(index * 10), judge.judge.id)
            demo.usernames.append(username)
            demo.team_ids.append(team.id)
    return demo


async def start(platform: Platform, demo: JudgedDemo, stop: bool = False) -> None:
    async with platform.db_factory() as db:
        competition = await judging.find_competition(db, demo.competition_id)
        await (records.stop if stop else records.start)(platform, db, competition)


async def drive_judges(
    http: httpx.AsyncClient,
    demo: JudgedDemo,
    taps: list[Tap],
    speed: float,
    clock: Callable[[], float],
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    on_tap: Callable[[int, int], None] | None = None,
) -> None:
    """Each judge logs in as the app does, then taps their team's runners as they come in."""
    tokens = []
    for username in demo.usernames:
        answer = await http.post(
            "/api/token/", json={"username": username, "password": demo.password}
        )
        answer.raise_for_status()
        tokens.append(answer.json()["access"])
    started = clock()
    for index, tap in enumerate(taps, start=1):
        wait = tap.at_ms / 1000 / speed - (clock() - started)
        if wait > 0:
            await sleep(wait)
        body = {
            "equipo_id": demo.team_ids[tap.team],
            "registros": [
                {
                    "id_registro": str(uuid.uuid4()),
                    "tiempo": tap.at_ms,
                    "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
                }
            ],
        }
        headers = {"Authorization": f"Bearer {tokens[tap.team]}"}
        answer = await http.post("/api/enviar_tiempos/", json=body, headers=headers)
        answer.raise_for_status()
        if on_tap is not None:
            on_tap(index, len(taps))


async def run(
    platform: Platform,
    http: httpx.AsyncClient,
    event_id: int,
    base: str,
    seed: int,
    minutes: float,
    speed: float,
    say: Callable[[str], object],
) -> None:
    """Make the competition, start it, let the judges tap every runner in, stop it."""
    import time

    demo = await create_judged_competition(platform, event_id)
    say(f"Judge page: {base}/judge/  (e.g. {demo.usernames[0]} / {demo.password})")
    await start(platform, demo)

    def tapped(done: int, total: int) -> None:
        if done == total or done % RUNNERS == 0:
            say(f"judges tapped {done}/{total} runners")

    taps = runner_taps(seed, minutes)
    await drive_judges(http, demo, taps, speed, time.monotonic, on_tap=tapped)
    await start(platform, demo, stop=True)
