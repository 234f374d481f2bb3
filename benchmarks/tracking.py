"""Location tracking benchmark: N simulated devices sending a fix a second over ``/ws/location/``.

``trackside serve`` runs as a subprocess on a fresh SQLite data dir (or ``--database-url``),
with N verified accounts made through the services before it starts, each tracked in one
event. The driver (one event loop, the ``websockets`` client) connects every device, then each
sends ``{"type": "location_update", …}`` once a second, spread evenly over the second, and
waits for its ``location_saved`` before the next. Measured: send → ``location_saved`` latency
(p50, p99, max), fixes acknowledged against fixes stored (counted in the database afterwards),
the server's CPU time and peak RSS while the devices send.

Prints one JSON document (progress on stderr). The default (200 devices, 30 s) takes about a
minute on 2 cores; the issue's figure is ``--devices 1000 --seconds 60``. The server is stopped
on exit, error or not.

    .venv/bin/python benchmarks/tracking.py [--devices 200] [--seconds 30] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import psutil
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from trackside.accounts import logins
from trackside.accounts import people as accounts
from trackside.config import Settings
from trackside.events import service as events
from trackside.platform import Platform
from trackside.sim.tracking import SimulatedField
from trackside.tracking import service as tracking

MB = 1024 * 1024
START_TIMEOUT_S = 60.0
ISS = "http://127.0.0.1/realms/trackside"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def lift_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def settings_for(data_dir: Path, database_url: str | None) -> Settings:
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        argon2_time_cost=1,
        argon2_memory_kib=8,
        argon2_parallelism=1,
        access_token_ttl_s=3600,
    )


async def prepare(settings: Settings, devices: int) -> tuple[int, list[str]]:
    """An event, ``devices`` tracked accounts in it, and an access token for each."""
    platform = await Platform.start(settings)
    try:
        async with platform.db_factory() as db:
            org = await events.create_organization(db, {"name": f"bench {time.time_ns()}"})
            now = datetime.now(UTC)
            event = await events.create_event(
                db,
                {
                    "organization_id": org.id,
                    "name": "Tracking benchmark",
                    "start_date": now - timedelta(hours=1),
                    "end_date": now + timedelta(hours=6),
                    "visibility": "public",
                },
            )
            tokens = []
            for index in range(devices):
                name = f"bench{event.id}-{index:05d}"
                user = await accounts.create(
                    platform, db, username=name, email=f"{name}@bench.invalid",
                    password="benchmark only", verified=True,
                )  # fmt: skip
                await db.commit()
                await tracking.add_participant(db, event.id, name)
                tokens.append(logins.access_token(platform, user, ISS))
            return event.id, tokens
    finally:
        await platform.close()


async def stored_fixes(settings: Settings) -> int:
    from sqlalchemy import func, select

    from trackside.tracking.models import LocationFix

    platform = await Platform.start(settings, with_keys=False)
    try:
        async with platform.db_factory() as db:
            return int(await db.scalar(select(func.count()).select_from(LocationFix)) or 0)
    finally:
        await platform.close()


def start_server(data_dir: Path, database_url: str | None) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "TRACKSIDE_DATA_DIR": str(data_dir), "TRACKSIDE_LOG_LEVEL": "warning"}
    env.pop("TRACKSIDE_REDIS_URL", None)
    if database_url:
        env["TRACKSIDE_DATABASE_URL"] = database_url
    else:
        env.pop("TRACKSIDE_DATABASE_URL", None)
    log = (data_dir / "server.log").open("wb")
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "trackside"), "serve", "--host", "127.0.0.1",
         "--port", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT, preexec_fn=lift_fd_limit,
    )  # fmt: skip
    base = f"127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        if server.poll() is not None:
            raise RuntimeError((data_dir / "server.log").read_text()[-2000:])
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"http://{base}/readyz", timeout=2).status_code == 200:
                return server, base
        if time.monotonic() > deadline:
            server.kill()
            raise RuntimeError("trackside serve did not become ready")
        time.sleep(0.1)


class Device:
    def __init__(self, index: int, token: str) -> None:
        self.index = index
        self.token = token
        self.latencies: list[float] = []
        self.sent = 0
        self.saved = 0
        self.failed = 0


async def run_device(
    device: Device, host: str, sim: SimulatedField, began: float, seconds: float, phase: float
) -> None:
    mover = sim.movers[device.index % len(sim.movers)]
    async with websockets.connect(
        f"ws://{host}/ws/location/?token={device.token}", open_timeout=120, ping_interval=None
    ) as ws:
        tick = 0
        while True:
            due = began + phase + tick
            if due - began >= seconds:
                return
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            p = sim.position(mover, tick)
            message = orjson.dumps(
                {"type": "location_update", "latitude": p.lat, "longitude": p.lon,
                 "speed": p.speed, "heading": p.heading}
            ).decode()  # fmt: skip
            sent_at = time.monotonic()
            await ws.send(message)
            reply = orjson.loads(await ws.recv())
            device.latencies.append((time.monotonic() - sent_at) * 1000)
            device.sent += 1
            if reply.get("success"):
                device.saved += 1
            else:
                device.failed += 1
            tick += 1


def percentile(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


async def drive(host: str, tokens: list[str], seconds: float, server_pid: int) -> dict[str, Any]:
    sim = SimulatedField.make(min(len(tokens), 200), seed=3)
    devices = [Device(i, token) for i, token in enumerate(tokens)]
    process = psutil.Process(server_pid)
    began = time.monotonic() + 3.0  # every socket connects before the first fix is due
    cpu_before = process.cpu_times()
    rss_peak = process.memory_info().rss
    tasks = [
        asyncio.create_task(run_device(d, host, sim, began, seconds, i / len(devices)))
        for i, d in enumerate(devices)
    ]
    pending = set(tasks)
    while pending:
        _, pending = await asyncio.wait(pending, timeout=1.0)
        with contextlib.suppress(psutil.Error):
            rss_peak = max(rss_peak, process.memory_info().rss)
        done = sum(d.sent for d in devices)
        print(f"\r{done} fixes acknowledged", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    for task in tasks:
        task.result()  # a device that failed fails the run
    cpu_after = process.cpu_times()
    wall = time.monotonic() - began
    cpu = (cpu_after.user - cpu_before.user) + (cpu_after.system - cpu_before.system)
    latencies = [x for d in devices for x in d.latencies]
    return {
        "sent": sum(d.sent for d in devices),
        "saved": sum(d.saved for d in devices),
        "failed": sum(d.failed for d in devices),
        "latency_ms": {
            "p50": round(percentile(latencies, 0.50), 2),
            "p99": round(percentile(latencies, 0.99), 2),
            "max": round(max(latencies, default=math.nan), 2),
        },
        "server": {
            "cpu_s": round(cpu, 2),
            "cpu_percent_of_one_core": round(100 * cpu / wall, 1),
            "rss_peak_mb": round(rss_peak / MB, 1),
        },
        "wall_s": round(wall, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=200, help="simulated devices")
    parser.add_argument("--seconds", type=float, default=30.0, help="how long each sends")
    parser.add_argument(
        "--database-url", default=None, help="PostgreSQL URL (default: SQLite in a temp dir)"
    )
    args = parser.parse_args()
    lift_fd_limit()
    with tempfile.TemporaryDirectory(prefix="trackside-bench-") as tmp:
        data_dir = Path(tmp)
        settings = settings_for(data_dir, args.database_url)
        print(f"making {args.devices} tracked accounts…", file=sys.stderr)
        _event, tokens = asyncio.run(prepare(settings, args.devices))
        before = asyncio.run(stored_fixes(settings))
        server, host = start_server(data_dir, args.database_url)
        try:
            result = asyncio.run(drive(host, tokens, args.seconds, server.pid))
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        stored = asyncio.run(stored_fixes(settings)) - before
    report = {
        "benchmark": "tracking",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": "postgresql" if args.database_url else "sqlite",
        "devices": args.devices,
        "seconds": args.seconds,
        "cpus": os.cpu_count(),
        **result,
        "stored": stored,
        "every_fix_stored": stored == result["saved"] == result["sent"],
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
