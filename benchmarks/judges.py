"""Judges' start push: 50 judges on sockets, an organizer starts a competition, how long until
the last judge has ``carrera.iniciada``.

Prints JSON. The server is a real ``trackside serve`` process on a fresh SQLite data dir; the
judges (accounts, profiles, one team each in every round's competition) are made beforehand
through the services, then each judge logs in over HTTP (``/api/token/``) and opens
``/ws/juez/{juez_id}/?token=`` as the app does. Each round the organizer POSTs
``/api/competencias/{id}/iniciar/``; the time from sending that POST to the last judge's
message is the round's ``last_judge_ms``. The baseline measured in the same run is the POST's
own round trip (``post_ms``): what an organizer waits anyway. Aim: p99 ``last_judge_ms`` at
most 100 ms here.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import websockets

PASSWORD = "benchmark judge password"
ROOT = Path(__file__).resolve().parents[1]


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _summary(values: list[float]) -> dict[str, float]:
    return {
        "p50": round(statistics.median(values), 2),
        "p99": round(_percentile(values, 0.99), 2),
        "max": round(max(values), 2),
    }


async def prepare(data_dir: Path, judges: int, rounds: int) -> dict[str, object]:
    """An organizer, ``judges`` judges, ``rounds`` competitions with a team per judge."""
    from trackside.accounts import people
    from trackside.accounts.roles import Role
    from trackside.config import Settings
    from trackside.events import service as events
    from trackside.judging import service as judging
    from trackside.platform import Platform

    platform = await Platform.start(Settings(data_dir=data_dir))
    try:
        async with platform.db_factory() as db:
            org = await events.create_organization(db, {"name": "Bench club"})
            event = await events.create_event(
                db,
                {
                    "organization_id": org.id,
                    "name": "Bench 5K",
                    "start_date": datetime(2025, 11, 11, 8, tzinfo=UTC),
                    "end_date": datetime(2025, 11, 11, 18, tzinfo=UTC),
                    "visibility": "public",
                },
            )
            boss = await people.create(
                platform, db, username="boss", email="boss@example.org", password=PASSWORD,
                verified=True,
            )  # fmt: skip
            await people.grant(db, boss, Role.ORGANIZER, organization_id=org.id)
            await db.commit()
            names = []
            for i in range(judges):
                name = f"judge{i}"
                await people.create(
                    platform, db, username=name, email=f"{name}@example.org", password=PASSWORD,
                    verified=True,
                )  # fmt: skip
                await db.commit()
                await judging.add_judge(db, event.id, name)
                names.append(name)
            profiles = {v.username: v.judge.id for v in await judging.list_judges(db, event.id)}
            competitions = []
            for r in range(rounds):
                when = datetime(2025, 11, 11, 9, tzinfo=UTC)
                competition = await judging.create_competition(db, event.id, f"Round {r}", when)
                for i, name in enumerate(names):
                    await judging.add_team(db, competition, f"Team {i}", str(i + 1), profiles[name])
                competitions.append(competition.id)
        return {"judges": profiles, "competitions": competitions}
    finally:
        await platform.close()


async def judge(url: str, arrivals: dict[int, float], ready: asyncio.Event, count: list[int]):
    async with websockets.connect(url, compression=None) as ws:
        await ws.recv()  # conexion_establecida
        count[0] += 1
        if count[0] == count[1]:
            ready.set()
        async for raw in ws:
            message = json.loads(raw)
            if message.get("type") == "carrera.iniciada":
                arrivals[message["data"]["competencia_id"]] = time.perf_counter()


async def bench(base: str, setup: dict[str, object], judges_n: int) -> dict[str, object]:
    profiles: dict[str, int] = setup["judges"]  # type: ignore[assignment]
    competitions: list[int] = setup["competitions"]  # type: ignore[assignment]
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        tokens = {}
        for name in profiles:
            answer = await http.post("/api/token/", json={"username": name, "password": PASSWORD})
            tokens[name] = answer.json()["access"]
        boss = await http.post("/api/token/", json={"username": "boss", "password": PASSWORD})
        headers = {"Authorization": f"Bearer {boss.json()['access']}"}
        ws_base = base.replace("http://", "ws://")
        arrivals = {name: {} for name in profiles}
        ready = asyncio.Event()
        count = [0, len(profiles)]
        tasks = [
            asyncio.create_task(
                judge(
                    f"{ws_base}/ws/juez/{profiles[n]}/?token={tokens[n]}", arrivals[n], ready, count
                )
            )
            for n in profiles
        ]
        await asyncio.wait_for(ready.wait(), 60)
        post_ms, last_ms, each_ms, missing = [], [], [], 0
        for competition in competitions:
            sent = time.perf_counter()
            answer = await http.post(f"/api/competencias/{competition}/iniciar/", headers=headers)
            post_ms.append((time.perf_counter() - sent) * 1000)
            assert answer.status_code == 200, answer.text
            deadline = time.perf_counter() + 5
            while time.perf_counter() < deadline and not all(
                competition in got for got in arrivals.values()
            ):
                await asyncio.sleep(0.001)
            times = [got[competition] for got in arrivals.values() if competition in got]
            missing += len(profiles) - len(times)
            each_ms.extend((t - sent) * 1000 for t in times)
            last_ms.append((max(times) - sent) * 1000)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "judges": judges_n,
        "rounds": len(competitions),
        "missing": missing,
        "baseline_post_ms": _summary(post_ms),
        "last_judge_ms": _summary(last_ms),
        "each_judge_ms": _summary(each_ms),
        "aim_p99_last_judge_ms": 100,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--judges", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--port", type=int, default=0, help="0: a free port")
    args = parser.parse_args()
    if not args.port:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            args.port = probe.getsockname()[1]
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKSIDE_")}
        env["TRACKSIDE_DATA_DIR"] = str(data_dir)
        setup = asyncio.run(prepare(data_dir, args.judges, args.rounds))
        server = subprocess.Popen(
            [sys.executable, "-m", "trackside.cli", "serve", "--port", str(args.port)],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        base = f"http://127.0.0.1:{args.port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("the server did not start")
                time.sleep(0.1)
            result = asyncio.run(bench(base, setup, args.judges))
        finally:
            server.terminate()
            server.wait(30)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
