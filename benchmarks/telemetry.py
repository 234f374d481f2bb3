"""Telemetry ingest and downsample-query benchmark: trackside (DuckDB) against a real InfluxDB.

In one run, on one machine:

- **ingest**: the same generated batches (``--batches`` of 5,000 lines x 8 fields, 20 cars at
  20 Hz) posted one after another over HTTP with a keep-alive client: to ``trackside serve``
  (a subprocess on a fresh data dir, the default DuckDB store, ``POST /api/v2/write`` with an
  API token) and to Debian's ``influxd`` 1.x (started here on a free port with a throw-away
  data dir, ``POST /write?db=``). Each answers 204 only once the points are stored. Points/s
  (a point is a line, as InfluxDB counts them) for each, and trackside's over InfluxDB's.
- **query**: ``--query-points`` points (lines) spread over one hour are loaded into each the
  same way, then a 1-hour, 1 s-bucket downsample (min, max, mean, last, count of one field
  over every series) is asked ``--repeat`` times over HTTP: ``GET /api/telemetry/query`` and
  InfluxQL ``GET /query``. Latency median and best, in ms.

Prints one JSON document (progress on stderr). Both servers are stopped on exit.

    .venv/bin/python benchmarks/telemetry.py [--batches 40] [--query-points 2000000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform as machine
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.telemetry.influxd import free_port, running_influxd  # noqa: E402

LINES_PER_BATCH = 5_000
CARS = 20
RATE_HZ = 20
T0 = 1_733_346_000_000_000_000  # 2024-12-04T21:00:00Z
HOUR_NS = 3600 * 10**9


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def batch(index: int, measurement: str, start_ns: int, step_ns: int) -> bytes:
    """5,000 lines x 8 fields: every car at each instant, instants ``step_ns`` apart."""
    lines = []
    first = index * LINES_PER_BATCH
    for n in range(first, first + LINES_PER_BATCH):
        instant, car = divmod(n, CARS)
        t = start_ns + instant * step_ns
        phase = (instant % 400) / 400
        lines.append(
            f"{measurement},car={car},session=1 speed={150 + 110 * phase:.2f},"
            f"throttle={phase:.3f},brake={1 - phase:.3f},rpm={4000 + (n * 37) % 8000}i,"
            f"gear={1 + instant % 6}i,lat={34.146 + phase / 250:.6f},"
            f"lon={-83.815 - phase / 160:.6f},steer={(n % 90) - 45:.1f} {t}"
        )
    return "\n".join(lines).encode()


@contextmanager
def trackside_server(data_dir: Path) -> Iterator[tuple[str, str]]:
    """``trackside serve`` on a fresh data dir with a level-5 account's API token."""
    sys.path.insert(0, str(REPO))
    from trackside.accounts import people
    from trackside.config import Settings
    from trackside.platform import Platform
    from trackside.telemetry import tokens

    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKSIDE_")}
    env |= {
        "TRACKSIDE_DATA_DIR": str(data_dir),
        "TRACKSIDE_TELEMETRY_RATE_LIMIT": "1000000",
        "TRACKSIDE_LOG_LEVEL": "warning",
    }

    async def prepare() -> str:
        settings = Settings(
            data_dir=data_dir, argon2_time_cost=1, argon2_memory_kib=8, argon2_parallelism=1
        )
        platform = await Platform.start(settings)
        try:
            async with platform.db_factory() as db:
                user = await people.register_without_email(
                    platform, db, username="bench", password="bench-password"
                )
                await people.set_level(db, user, 5)
                await db.commit()
                _, token = await tokens.create(db, user.id, "benchmark")
            return token
        finally:
            await platform.close()

    token = asyncio.run(prepare())
    port = free_port()
    exe = Path(sys.executable).parent / "trackside"
    process = subprocess.Popen(
        [str(exe), "serve", "--port", str(port)],
        env=env,
        cwd=data_dir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                errors = process.stderr.read() if process.stderr else b""
                raise RuntimeError(f"trackside did not start: {errors!r}")
            time.sleep(0.2)
        yield url, token
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def post_all(client: httpx.Client, path: str, params: dict, bodies: list[bytes]) -> float:
    started = time.perf_counter()
    for body in bodies:
        response = client.post(path, params=params, content=body)
        if response.status_code != 204:
            raise RuntimeError(f"{path}: {response.status_code} {response.text[:300]}")
    return time.perf_counter() - started


def timed_queries(client: httpx.Client, path: str, params: dict, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(path, params=params)
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise RuntimeError(f"{path}: {response.status_code} {response.text[:300]}")
        times.append(elapsed * 1000)
    return times


def buckets_of(trackside: dict, influx: dict) -> tuple[int, int]:
    ours = sum(len(s["time"]) for s in trackside["series"])
    theirs = sum(len(s["values"]) for r in influx["results"] for s in r.get("series", []))
    return ours, theirs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batches", type=int, default=40, help="5,000-line batches to ingest")
    parser.add_argument(
        "--query-points", type=int, default=2_000_000, help="points over the queried hour"
    )
    parser.add_argument("--repeat", type=int, default=7, help="times each query is asked")
    args = parser.parse_args()

    log(f"generating {args.batches} batches of {LINES_PER_BATCH} lines")
    step = 10**9 // RATE_HZ
    ingest = [batch(i, "car", T0, step) for i in range(args.batches)]
    query_batches = -(-args.query_points // LINES_PER_BATCH)
    instants = query_batches * LINES_PER_BATCH // CARS
    query_step = HOUR_NS // instants  # the points fill one hour
    query_start = T0 + 24 * HOUR_NS
    loading = [batch(i, "q", query_start, query_step) for i in range(query_batches)]
    lines = args.batches * LINES_PER_BATCH

    result: dict = {
        "lines_per_batch": LINES_PER_BATCH,
        "fields_per_line": 8,
        "batches": args.batches,
        "points": lines,
        "bytes_per_batch": len(ingest[0]),
    }
    with (
        tempfile.TemporaryDirectory(prefix="trackside-bench-") as tmp,
        running_influxd() as influx_url,
        trackside_server(Path(tmp)) as (ts_url, token),
        httpx.Client(
            base_url=ts_url, timeout=300, headers={"Authorization": f"Token {token}"}
        ) as ts,
        httpx.Client(base_url=influx_url, timeout=300) as influx,
    ):
        influx.post("/query", data={"q": 'CREATE DATABASE "bench"'}).raise_for_status()
        v2 = {"org": "bench", "bucket": "bench", "precision": "ns"}
        v1 = {"db": "bench", "precision": "ns"}
        # warm both up (first bucket/database, first shard) outside the timing
        post_all(ts, "/api/v2/write", v2, [batch(0, "warm", T0, step)])
        post_all(influx, "/write", v1, [batch(0, "warm", T0, step)])

        log("ingest: trackside")
        ts_s = post_all(ts, "/api/v2/write", v2, ingest)
        log("ingest: influxdb")
        influx_s = post_all(influx, "/write", v1, ingest)
        result["trackside"] = {"seconds": round(ts_s, 3), "points_per_s": round(lines / ts_s)}
        result["influxdb"] = {
            "seconds": round(influx_s, 3),
            "points_per_s": round(lines / influx_s),
        }
        result["ratio"] = round(influx_s / ts_s, 3)

        log(f"query: loading {query_batches * LINES_PER_BATCH} points into each")
        load_ts = post_all(ts, "/api/v2/write", v2, loading)
        load_influx = post_all(influx, "/write", v1, loading)
        start = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(query_start // 10**9))
        stop = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(query_start // 10**9 + 3600))
        ts_params = {
            "bucket": "bench",
            "measurement": "q",
            "fields": "speed",
            "start": start,
            "stop": stop,
            "every": "1s",
        }
        influxql = (
            'SELECT min("speed"), max("speed"), mean("speed"), last("speed"), count("speed")'
            f" FROM \"q\" WHERE time >= '{start}' AND time < '{stop}' GROUP BY time(1s)"
            " fill(none)"
        )
        influx_params = {"db": "bench", "q": influxql, "epoch": "ms"}
        log("query: asking each")
        ts_times = timed_queries(ts, "/api/telemetry/query", ts_params, args.repeat)
        influx_times = timed_queries(influx, "/query", influx_params, args.repeat)
        ours, theirs = buckets_of(
            ts.get("/api/telemetry/query", params=ts_params).json(),
            influx.get("/query", params=influx_params).json(),
        )
        result["query"] = {
            "points": query_batches * LINES_PER_BATCH,
            "range": "1h",
            "every": "1s",
            "buckets": {"trackside": ours, "influxdb": theirs},
            "trackside_ms": {
                "median": round(statistics.median(ts_times), 1),
                "best": round(min(ts_times), 1),
            },
            "influxdb_ms": {
                "median": round(statistics.median(influx_times), 1),
                "best": round(min(influx_times), 1),
            },
            "load_seconds": {
                "trackside": round(load_ts, 2),
                "influxdb": round(load_influx, 2),
            },
        }
    result["machine"] = {
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "platform": machine.platform(),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
