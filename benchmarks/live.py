"""Live fan-out benchmark: relay POST to the last of N WebSocket subscribers, against bare
broadcasting.

For each N in ``--sizes`` (default 100, 1,000 and 5,000 subscribers, all on loopback):

- **trackside**: ``trackside serve`` runs as a subprocess on a fresh SQLite data dir, with one
  organization, one public event per N and an official relay client bound to it (made through
  the services before the server starts). The driver takes a client-credentials token, posts
  the entries, the grid and the race start up to the green flag (uncounted), connects N
  subscribers to ``/ws/events/{id}``, then posts the race, one relay batch per update (the
  capture's lines that arrived within ``--batch-ms`` of each other), the whole path: HTTP,
  auth, durable ingest, log, engine, patch, fan-out. Each POST's bytes are made before the
  clock starts and sent on one kept-alive connection (``RawHttp``), as the baseline's are: the
  figure is the server's, not an HTTP client library's.
- **baseline**: ``benchmarks/live_baseline.py``, a minimal ``websockets`` server that
  ``broadcast``s each update's bytes to every connection; the driver hands it, over a TCP side
  channel, exactly the bytes trackside sends for the same update.

The subscribers are ``--processes`` separate processes (``benchmarks/live_subscribers.py``),
each holding N/P connections in one event loop, noting the ``CLOCK_MONOTONIC`` time each frame
arrives. Per update, latency = (last subscriber's receive time) - (the moment just before the
driver sent the update). An update is sent ``--interval-ms`` after the one before, and never
before the one before has reached every subscriber (plus ``--settle-ms``): what is measured is
the latency of an update, not a queue.

Also per N: bytes each subscriber received per minute of racing (the snapshot on connect and
every patch, WebSocket framing excluded) against the full-payload-every-5-s scheme, as the
full JSON snapshot and as the compact gzip + base64 payload (``benchmarks/live_bytes.py``),
and the server's RSS. ``ratio`` is trackside's p99 over the baseline's; the aim is <= 1.5.

Prints one JSON document (progress on stderr). Takes about six minutes on 2 cores; every child
process is stopped on exit, error or not. ``--profile DIR`` samples the server with py-spy
during the updates; ``--server-gc-threshold`` runs the same server under other collector
thresholds, to try that fix without changing code.

    .venv/bin/python benchmarks/live.py [--sizes 100,1000,5000] [--updates 200] [--processes 4]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import multiprocessing
import os
import platform as machine
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import httpx
import live_bytes
import live_subscribers
import orjson
import psutil

from trackside.events.classification_book import ClassificationBook
from trackside.events.ingest import MAX_BATCH
from trackside.feeds.capture import decode_lines, read_header
from trackside.feeds.rmonitor import parse_lines
from trackside.live.patch import LiveState
from trackside.live.snapshot import SnapshotBuilder
from trackside.timing.results import session_result
from trackside.timing.scorer import Scorer

HERE = Path(__file__).resolve().parent
DATA = HERE.parent.parent / "shared" / "data" / "rmonitor"
WARMUP_FILES = ["road-america-2025-04-26-entries.log", "road-america-2025-04-26-grid.log"]
RACE_FILE = "road-america-2025-04-26-race-start.log"
FULL_EVERY_MS = 5_000
HEADER = struct.Struct(">cI")  # the baseline's side channel: kind, length
UPDATE_TIMEOUT_S = 15.0  # an update that has not reached everyone by then is counted missing
START_TIMEOUT_S = 60.0
MB = 1024 * 1024

Line = tuple[int, str]  # (received_at epoch ms, RMonitor line)


# --- the race -------------------------------------------------------------------------------


@dataclass
class Feed:
    """What is posted, and what trackside's live protocol makes of it (computed here, offline)."""

    warmup: list[Line]
    batches: list[list[Line]]
    batch_times: list[int]  # receive time of each batch (its latest line)
    snapshot: bytes  # what a subscriber gets on connect after the warm-up (epoch 0)
    messages: list[bytes]  # the patch each batch produces (epoch 0)
    full_json: int  # bytes of the full JSON snapshot every 5 s over the batches
    compact: dict[str, Any] = field(default_factory=dict)  # live_bytes.measure of the batches

    def with_epoch(self, epoch: int) -> tuple[bytes, list[bytes]]:
        """The snapshot and patches as the server's processor run ``epoch`` sends them."""

        def stamped(data: bytes) -> bytes:
            body = orjson.loads(data)
            del body["epoch"]
            return orjson.dumps({"type": body.pop("type"), "epoch": epoch, **body})

        return stamped(self.snapshot), [stamped(message) for message in self.messages]

    @property
    def minutes(self) -> float:
        return max((self.batch_times[-1] - self.batch_times[0]) / 60_000, 1 / 60)

    def bodies(self, source: str, first_seq: int) -> Iterator[bytes]:
        """Each batch as a relay POST body, serialized before the clock starts."""
        seq = first_seq
        for batch in self.batches:
            records = []
            for at, line in batch:
                records.append({"seq": seq, "received_at": at, "type": "rmonitor", "data": line})
                seq += 1
            yield orjson.dumps({"source": source, "records": records})


def capture_blocks(path: Path) -> list[tuple[int, list[str]]]:
    """The capture's blocks: receive time (kept in time order) and the RMonitor lines."""
    blocks: list[tuple[int, list[str]]] = [(0, [])]
    now = 0
    rmonitor = True
    for line in decode_lines(path.read_bytes()):
        header = read_header(line)
        if header is not None:
            received, kind = header
            now = max(now, received or now)  # capture blocks are not all in time order
            rmonitor = kind == "rmonitor"
            blocks.append((now, []))
        elif rmonitor and line.startswith("$"):
            blocks[-1][1].append(line)
    return [block for block in blocks if block[1]]


def _apply(scorer: Scorer, lines: list[Line]) -> None:
    for _, line in lines:  # as the server's processor does: one stored row at a time
        for record in parse_lines([line]):
            scorer.apply(record)


class Offline:
    """What the server's event processor makes of the lines: the same scorer, snapshot
    builder and classification stamp (``events/processors.py``), with no database."""

    def __init__(self) -> None:
        self.scorer = Scorer()
        self.builder = SnapshotBuilder(self.scorer)
        sessions = self.scorer.engine.sessions
        self.book = ClassificationBook(
            lambda index: session_result(sessions[index], self.scorer.extras(index)),
            lambda: len(sessions),
        )
        self.live = LiveState(self.body())

    def body(self) -> dict[str, Any]:
        return self.book.stamp(self.builder.build())


def load_feed(data: Path, updates: int, batch_ms: int) -> Feed:
    """Entries, grid and the race start up to the green flag are the warm-up; then ``updates``
    batches from the green flag on, each one the lines received within ``batch_ms``."""
    warmup: list[Line] = []
    for name in WARMUP_FILES:
        warmup += [(at, line) for at, lines in capture_blocks(data / name) for line in lines]
    race = capture_blocks(data / RACE_FILE)
    green = next(
        i for i, (_, lines) in enumerate(race) if any(x[:2] == "$F" and "Green" in x for x in lines)
    )
    warmup += [(at, line) for at, lines in race[:green] for line in lines]

    offline = Offline()
    live = offline.live
    for start in range(0, len(warmup), MAX_BATCH):  # the warm-up goes in relay-sized posts
        _apply(offline.scorer, warmup[start : start + MAX_BATCH])
        live.update(offline.body())
    snapshot = live.snapshot_message().data

    batches: list[list[Line]] = []
    times: list[int] = []
    messages: list[bytes] = []
    full_json = 0
    last_full: int | None = None
    pending: list[Line] = []
    blocks = iter(race[green:])
    block = next(blocks, None)
    while block is not None and len(batches) < updates:
        opened = block[0]
        arrived: list[Line] = []
        while block is not None and block[0] < opened + batch_ms:
            arrived += [(block[0], line) for line in block[1]]
            block = next(blocks, None)
        _apply(offline.scorer, arrived)
        pending += arrived
        message = live.update(offline.body())
        if message is None:
            continue  # nothing a viewer sees changed: these lines ride with the next batch
        batches.append(pending)
        times.append(pending[-1][0])
        messages.append(message.data)
        pending = []
        now = times[-1]
        while last_full is None or now - last_full >= FULL_EVERY_MS:
            full_json += len(live.snapshot_message().data)
            last_full = now if last_full is None else last_full + FULL_EVERY_MS
    before = [record for _, line in warmup for record in parse_lines([line])]
    compact = live_bytes.measure(
        [
            (at, [record for _, line in batch for record in parse_lines([line])])
            for at, batch in zip(times, batches, strict=True)
        ],
        before,
    )
    return Feed(warmup, batches, times, snapshot, messages, full_json, compact)


# --- processes ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Children:
    """Every process the benchmark starts, stopped whatever happens (error, Ctrl-C, SIGTERM)."""

    def __init__(self) -> None:
        self.popens: list[subprocess.Popen[bytes]] = []
        self.processes: list[BaseProcess] = []

    def stop(self) -> None:
        for child in self.popens:
            if child.poll() is None:
                child.terminate()
        for process in self.processes:
            if process.is_alive():
                process.terminate()
        deadline = time.monotonic() + 10
        for child in self.popens:
            try:
                child.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        for process in self.processes:
            process.join(max(0.1, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()


async def _make_world(
    data_dir: Path, sizes: list[int], database_url: str | None = None
) -> list[tuple[int, str, str]]:
    """An organization, and per size a public event with an official relay client of its own
    (in ``database_url``, else SQLite in ``data_dir``)."""
    from trackside.accounts import clients
    from trackside.accounts.roles import Role
    from trackside.config import Settings
    from trackside.events import service as events
    from trackside.platform import Platform

    settings = Settings(data_dir=data_dir, database_url=database_url)
    platform = await Platform.start(settings, with_keys=False)
    made: list[tuple[int, str, str]] = []
    try:
        async with platform.db_factory() as db:
            org = await events.create_organization(
                db, {"name": "Benchmark Club", "description": "benchmarks/live.py"}
            )
            for size in sizes:
                event = await events.create_event(
                    db,
                    {
                        "organization_id": org.id,
                        "name": f"Road America, {size} viewers",
                        "start_date": datetime(2025, 4, 26, 8, tzinfo=UTC),
                        "end_date": datetime(2025, 4, 26, 18, tzinfo=UTC),
                        "location": "Road America",
                        "visibility": "public",
                    },
                )
                client = await clients.create(
                    db, name=f"relay {size}", role=Role.OFFICIAL, event_id=event.id
                )
                made.append((event.id, client.client.client_id, client.secret))
    finally:
        await platform.close()
    return made


def _lift_fd_limit() -> None:
    live_subscribers.raise_fd_limit()


def start_trackside(
    children: Children, data_dir: Path, gc_threshold: tuple[int, ...] | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """``trackside serve`` as shipped; ``gc_threshold`` runs it under other collector
    thresholds (an experiment: the server's code is the same)."""
    port = free_port()
    env = {
        **os.environ,
        "TRACKSIDE_DATA_DIR": str(data_dir),
        "TRACKSIDE_LOG_LEVEL": "warning",  # no access log line per request
        "TRACKSIDE_RELAY_RATE_LIMIT": "1000000",
        "TRACKSIDE_CLIENT_TOKEN_TTL_S": "3600",
    }
    env.pop("TRACKSIDE_DATABASE_URL", None)
    env.pop("TRACKSIDE_REDIS_URL", None)
    log = (data_dir / "server.log").open("wb")
    command = [str(Path(sys.executable).parent / "trackside"), "serve", "--host", "127.0.0.1"]
    if gc_threshold is not None:
        prelude = f"import gc; gc.set_threshold(*{gc_threshold!r}); from trackside.cli import main"
        command = [sys.executable, "-c", f"{prelude}; main()", *command[1:]]
    server = subprocess.Popen(
        [*command, "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=_lift_fd_limit,
    )
    children.popens.append(server)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        if server.poll() is not None:
            raise RuntimeError(f"trackside serve exited:\n{_tail(data_dir / 'server.log')}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return server, base
        if time.monotonic() > deadline:
            raise RuntimeError(f"trackside serve not ready:\n{_tail(data_dir / 'server.log')}")
        time.sleep(0.1)


def start_baseline(children: Children) -> tuple[subprocess.Popen[bytes], int, socket.socket]:
    child = subprocess.Popen(
        [sys.executable, str(HERE / "live_baseline.py"), "--host", "127.0.0.1"],
        stdout=subprocess.PIPE,
    )
    children.popens.append(child)
    assert child.stdout is not None
    line = child.stdout.readline()
    if not line:
        raise RuntimeError("the baseline server did not start")
    ports = orjson.loads(line)
    control = socket.create_connection(("127.0.0.1", ports["control"]))
    control.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return child, ports["ws"], control


def _tail(path: Path, size: int = 3000) -> str:
    return path.read_bytes()[-size:].decode(errors="replace") if path.exists() else ""


class Subscribers:
    """The subscriber processes and the shared per-update delivery counts; ``target`` is the
    processes' entry point (``benchmarks/cluster.py`` runs its own viewers)."""

    def __init__(
        self,
        children: Children,
        processes: int,
        updates: int,
        target: Callable[..., None] = live_subscribers.run,
    ) -> None:
        context = multiprocessing.get_context("spawn")
        self.updates = updates
        self.counts = context.RawArray(ctypes.c_int32, processes * updates)
        self.pipes: list[Connection] = []
        self.handles: list[BaseProcess] = []
        for row in range(processes):
            ours, theirs = context.Pipe()
            process = context.Process(
                target=target,
                args=(theirs, self.counts, row, updates),
                name=f"subscribers-{row}",
                daemon=True,
            )
            process.start()
            children.processes.append(process)
            self.handles.append(process)
            self.pipes.append(ours)

    def ask(self, *command: Any, shares: list[int] | None = None) -> list[dict[str, Any]]:
        """Send a command to every process (with its share of N for ``connect``), gather."""
        for index, pipe in enumerate(self.pipes):
            pipe.send((*command, shares[index]) if shares is not None else command)
        replies = []
        for pipe, process in zip(self.pipes, self.handles, strict=True):
            while not pipe.poll(1.0):
                if not process.is_alive():
                    raise RuntimeError(f"{process.name} died")
            reply = pipe.recv()
            if "error" in reply:
                raise RuntimeError(f"{process.name}: {reply['error']}")
            replies.append(reply)
        return replies

    def delivered(self, index: int) -> int:
        counts, updates = self.counts, self.updates
        return sum(counts[row * updates + index] for row in range(len(self.pipes)))

    def cpu_seconds(self) -> float:
        total = 0.0
        for process in self.handles:
            with contextlib.suppress(psutil.Error):
                times = psutil.Process(process.pid).cpu_times()
                total += times.user + times.system
        return total


@contextlib.contextmanager
def profiling(folder: Path | None, pid: int, name: str) -> Iterator[None]:
    """Sample the server with py-spy (if asked) while the block runs: collapsed stacks."""
    if folder is None:
        yield
        return
    folder.mkdir(parents=True, exist_ok=True)
    spy = Path(sys.executable).parent / "py-spy"
    command = [str(spy), "record", "--pid", str(pid), "--format", "raw", "--rate", "250"]
    sampler = subprocess.Popen(
        [*command, "--output", str(folder / f"{name}.txt"), "--nonblocking"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(1.0)  # py-spy attaches
    try:
        yield
    finally:
        sampler.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
        try:
            sampler.wait(30)
        except subprocess.TimeoutExpired:
            sampler.kill()
            sampler.wait()


# --- measuring ------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * share // 1))
    return ordered[int(rank) - 1]


def summary(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p99": None, "max": None}
    return {
        "p50": round(percentile(values, 0.50) * 1000, 2),
        "p99": round(percentile(values, 0.99) * 1000, 2),
        "max": round(max(values) * 1000, 2),
    }


def cpu_of(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def rss_mb(pid: int) -> float:
    return round(psutil.Process(pid).memory_info().rss / MB, 1)


@dataclass
class Run:
    """One server, one N: connect, drive the updates, gather what the subscribers saw."""

    subscribers: Subscribers
    server_pid: int
    url: str
    size: int
    interval_s: float
    settle_s: float
    deflate: str = "off"
    result: dict[str, Any] = field(default_factory=dict)
    bytes: list[int] = field(default_factory=list)  # each subscriber's, snapshot included
    digests: list[int] = field(default_factory=list)  # CRC-32 of each one's messages
    wire: list[tuple[bool, int]] = field(default_factory=list)  # (offered deflate, bytes)
    epoch: int | None = None

    def connect(self) -> None:
        processes = len(self.subscribers.pipes)
        shares = [self.size // processes + (i < self.size % processes) for i in range(processes)]
        rss_before = rss_mb(self.server_pid)
        replies = self.subscribers.ask("connect", self.url, self.deflate, shares=shares)
        connected = sum(r["connected"] for r in replies)
        bases = sorted({b for r in replies for b in r["bases"]})
        epochs = sorted({e for r in replies for e in r["epochs"]})
        self.epoch = epochs[0] if len(epochs) == 1 else None
        self.result.update(
            connected=connected,
            connect_seconds=max(r["seconds"] for r in replies),
            rss_mb={"before_connect": rss_before, "connected": rss_mb(self.server_pid)},
        )
        errors = [e for r in replies for e in r["errors"]]
        if connected < self.size or len(bases) != 1:
            raise RuntimeError(
                f"{connected} of {self.size} subscribers connected to {self.url} "
                f"(snapshot versions {bases}): {errors[:3]}"
            )

    def drive(self, send: Callable[[int], None], updates: int) -> None:
        subscribers = self.subscribers
        sent_at: list[float] = []
        acked: list[float] = []
        incomplete = 0
        cpu = cpu_of(self.server_pid)
        loadgen_cpu = subscribers.cpu_seconds()
        started = time.monotonic()
        next_at = started
        for index in range(updates):
            pause = next_at - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            begun = time.monotonic()
            send(index)
            acked.append(time.monotonic() - begun)
            sent_at.append(begun)
            deadline = begun + UPDATE_TIMEOUT_S
            while subscribers.delivered(index) < self.size:
                if time.monotonic() > deadline:
                    incomplete += 1
                    break
                time.sleep(0.0005)
            next_at = max(begun + self.interval_s, time.monotonic() + self.settle_s)
        elapsed = time.monotonic() - started
        time.sleep(0.3)  # stragglers of the last update
        self.result.update(
            seconds=round(elapsed, 2),
            server_cpu_ms_per_update=round((cpu_of(self.server_pid) - cpu) * 1000 / updates, 2),
            subscribers_cpu_ms_per_update=round(
                (subscribers.cpu_seconds() - loadgen_cpu) * 1000 / updates, 2
            ),
            incomplete_updates=incomplete,
        )
        self.result["rss_mb"]["after_updates"] = rss_mb(self.server_pid)
        replies = subscribers.ask("collect")
        last = [max(r["last"][i] for r in replies) for i in range(updates)]
        first = [min(r["first"][i] for r in replies) for i in range(updates)]
        complete = [i for i in range(updates) if subscribers.delivered(i) >= self.size]
        self.result.update(
            latency_ms=summary([last[i] - sent_at[i] for i in complete]),
            first_subscriber_ms=summary([first[i] - sent_at[i] for i in complete]),
            send_ms=summary(acked),
            resyncs=sum(r["resyncs"] for r in replies),
            connections_lost=sum(r["lost"] for r in replies),
        )
        self.bytes = [b for r in replies for b in r["bytes"]]
        self.digests = [d for r in replies for d in r["digests"]]
        self.wire = [tuple(w) for r in replies for w in r["wire"]]
        subscribers.ask("close")


def run_trackside(
    feed: Feed,
    subscribers: Subscribers,
    server: subprocess.Popen[bytes],
    base: str,
    event: tuple[int, str, str],
    size: int,
    args: argparse.Namespace,
) -> Run:
    event_id, client_id, secret = event
    with httpx.Client(base_url=base, timeout=30) as http:
        reply = http.post(
            "/realms/trackside/protocol/openid-connect/token",
            data={
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": secret,
            },
        )
        reply.raise_for_status()
        headers = {
            "Authorization": f"Bearer {reply.json()['access_token']}",
            "Content-Type": "application/json",
        }
        path = f"/relay/events/{event_id}/records"
        source = "rmonitor"
        for start in range(0, len(feed.warmup), MAX_BATCH):
            chunk = feed.warmup[start : start + MAX_BATCH]
            body = {
                "source": source,
                "records": [
                    {"seq": start + i + 1, "received_at": at, "type": "rmonitor", "data": line}
                    for i, (at, line) in enumerate(chunk)
                ],
            }
            http.post(path, content=orjson.dumps(body), headers=headers).raise_for_status()
        bodies = list(feed.bodies(source, len(feed.warmup) + 1))
        run = Run(
            subscribers,
            server.pid,
            f"ws{base[4:]}/ws/events/{event_id}",
            size,
            args.interval_ms / 1000,
            args.settle_ms / 1000,
            args.deflate,
        )
        with profiling(args.profile, server.pid, f"connect-{size}"):
            run.connect()

        # Each update's whole request is made before the clock starts, as the baseline's
        # side-channel bytes are: what is timed is the server, not an HTTP client's own work.
        host = httpx.URL(base).netloc.decode()
        requests = [raw_request(host, path, headers, body) for body in bodies]
        with RawHttp(base) as raw:

            def send(index: int) -> None:
                status, body = raw.exchange(requests[index])
                if status != 200:
                    raise RuntimeError(f"relay POST answered {status}: {body[:500]!r}")

            with profiling(args.profile, server.pid, f"trackside-{size}"):
                run.drive(send, len(bodies))
    return run


def raw_request(host: str, path: str, headers: dict[str, str], body: bytes) -> bytes:
    """One HTTP/1.1 POST, head and body in one piece (one write, as a relay's would be)."""
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class RawHttp:
    """A kept-alive HTTP/1.1 connection that sends prepared requests and reads each reply
    (status and Content-Length body; the server answers every relay POST that way)."""

    def __init__(self, base: str) -> None:
        url = httpx.URL(base)
        self.address = (url.host, url.port or 80)
        self.sock: socket.socket | None = None
        self.buffer = b""

    def __enter__(self) -> RawHttp:
        self.sock = socket.create_connection(self.address)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self

    def __exit__(self, *_: object) -> None:
        if self.sock is not None:
            self.sock.close()

    def exchange(self, request: bytes) -> tuple[int, bytes]:
        assert self.sock is not None
        self.sock.sendall(request)
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self._recv()
        head, _, rest = self.buffer.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        while len(rest) < length:
            rest += self._recv()
        self.buffer = rest[length:]
        return status, rest[:length]

    def _recv(self) -> bytes:
        assert self.sock is not None
        data = self.sock.recv(65536)
        if not data:
            raise RuntimeError("the server closed the relay's connection")
        return data


def run_baseline(
    feed: Feed,
    subscribers: Subscribers,
    server: subprocess.Popen[bytes],
    port: int,
    control: socket.socket,
    size: int,
    args: argparse.Namespace,
    epoch: int,
) -> dict[str, Any]:
    snapshot, messages = feed.with_epoch(epoch)

    def post(kind: bytes, payload: bytes) -> None:
        control.sendall(HEADER.pack(kind, len(payload)) + payload)
        if control.recv(1) != b"k":
            raise RuntimeError("the baseline server stopped")

    post(b"S", snapshot)
    run = Run(
        subscribers,
        server.pid,
        f"ws://127.0.0.1:{port}/",
        size,
        args.interval_ms / 1000,
        args.settle_ms / 1000,
        args.deflate,
    )
    run.connect()
    run.drive(lambda index: post(b"U", messages[index]), len(messages))
    return run.result


# --- the report -----------------------------------------------------------------------------


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in ("websockets", "uvicorn", "uvloop", "httptools", "starlette", "fastapi"):
        with contextlib.suppress(PackageNotFoundError):
            found[name] = version(name)
    return found


def _bytes_figures(feed: Feed, run: Run) -> dict[str, Any]:
    """Per subscriber per minute of racing: message bytes (decompressed, pings aside) and
    bytes on the wire, against the full-payload-every-5-s schemes; and whether what each
    subscriber received is what the offline replay computes, byte for byte."""
    received = run.bytes
    snapshot, messages = feed.with_epoch(run.epoch or 0)
    expected = len(snapshot) + sum(map(len, messages))
    digest = 0
    for data in (snapshot, *messages):
        digest = zlib.crc32(data, digest)
    minutes = feed.minutes
    compact = feed.compact["bytes_per_minute"]
    ours = sum(received) / len(received) if received else 0
    wire: dict[str, Any] = {}
    for offered, name in ((True, "deflate"), (False, "no_deflate")):
        sizes = [size for deflate, size in run.wire if deflate is offered]
        if sizes:
            per_minute = sum(sizes) / len(sizes) / minutes
            wire[name] = {
                "subscribers": len(sizes),
                "bytes_per_minute": round(per_minute),
                "vs_full_compact": round(per_minute / compact["full_every_5s"], 3),
            }
    return {
        "trackside_patches": round(ours / minutes),
        "trackside_patches_without_snapshot": round(sum(map(len, feed.messages)) / minutes),
        "full_json_every_5s": round(feed.full_json / minutes),
        "full_compact_every_5s": compact["full_every_5s"],
        "trackside_vs_full_json": round(ours / feed.full_json, 3),
        "trackside_vs_full_compact": round(ours / minutes / compact["full_every_5s"], 3),
        "every_subscriber_got_the_same_bytes": min(received, default=0) == max(received, default=0),
        "received_as_computed_offline": bool(received)
        and set(received) == {expected}
        and set(run.digests) == {digest},
        "on_the_wire": wire,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", default="100,1000,5000", help="subscriber counts, comma-separated"
    )
    parser.add_argument("--updates", type=int, default=200, help="updates posted per N and server")
    parser.add_argument("--processes", type=int, default=4, help="subscriber processes")
    parser.add_argument("--interval-ms", type=int, default=150, help="time between updates")
    parser.add_argument(
        "--settle-ms", type=int, default=20, help="pause after an update reached everyone"
    )
    parser.add_argument(
        "--batch-ms", type=int, default=100, help="lines received this close go together"
    )
    parser.add_argument("--data", type=Path, default=DATA, help="folder of the captures")
    parser.add_argument(
        "--deflate",
        choices=("on", "off", "mixed"),
        default="mixed",
        help="subscribers offering permessage-deflate (as browsers do): all, none, or every "
        "other one (bytes on the wire are reported for each kind)",
    )
    parser.add_argument(
        "--server-gc-threshold",
        default=None,
        help="e.g. 50000,20,1000: run the server under these gc.set_threshold values "
        "(to try a fix; default: Python's)",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="write py-spy samples (collapsed stacks) of the server's update phase here",
    )
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",") if size.strip()]
    gc_threshold = (
        tuple(int(x) for x in args.server_gc_threshold.split(","))
        if args.server_gc_threshold
        else None
    )
    load_before = os.getloadavg()

    feed = load_feed(args.data, args.updates, args.batch_ms)
    children = Children()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwind: the finally stops all
    results: list[dict[str, Any]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="trackside-live-bench-") as tmp:
            data_dir = Path(tmp)
            world = asyncio.run(_make_world(data_dir, sizes))
            server, base = start_trackside(children, data_dir, gc_threshold)
            baseline, baseline_port, control = start_baseline(children)
            subscribers = Subscribers(children, args.processes, len(feed.messages))
            for size, event in zip(sizes, world, strict=True):
                run = run_trackside(feed, subscribers, server, base, event, size, args)
                ours = run.result
                theirs = run_baseline(
                    feed, subscribers, baseline, baseline_port, control, size, args, run.epoch or 0
                )
                p99, base_p99 = ours["latency_ms"]["p99"], theirs["latency_ms"]["p99"]
                p50, base_p50 = ours["latency_ms"]["p50"], theirs["latency_ms"]["p50"]
                ratio = round(p99 / base_p99, 2) if p99 and base_p99 else None
                results.append(
                    {
                        "subscribers": size,
                        "trackside_ms": {"p50": p50, "p99": p99},
                        "baseline_ms": {"p50": base_p50, "p99": base_p99},
                        "ratio_p99": ratio,
                        "ratio_p50": round(p50 / base_p50, 2) if p50 and base_p50 else None,
                        "within_1_5x": ratio is not None and ratio <= 1.5,
                        "bytes_per_subscriber_per_minute": _bytes_figures(feed, run),
                        "server_rss_mb": ours.pop("rss_mb"),
                        "trackside": ours,
                        "baseline": theirs,
                    }
                )
                print(
                    f"N={size}: trackside p99 {p99} ms, baseline p99 {base_p99} ms", file=sys.stderr
                )
            subscribers.ask("exit")
            control.close()
    finally:
        children.stop()

    lines = [len(batch) for batch in feed.batches]
    report = {
        "benchmark": "live fan-out: relay POST to the last WebSocket subscriber",
        "aim": "trackside p99 <= 1.5 x baseline p99 at every N",
        "results": results,
        "race": {
            "capture": [*WARMUP_FILES, RACE_FILE],
            "warmup_lines": len(feed.warmup),
            "updates": len(feed.batches),
            "lines_per_update": {"mean": round(sum(lines) / len(lines), 1), "max": max(lines)},
            "race_minutes": round(feed.minutes, 2),
            "snapshot_bytes": len(feed.snapshot),
            "patch_bytes": {
                "mean": round(sum(map(len, feed.messages)) / len(feed.messages)),
                "max": max(map(len, feed.messages)),
            },
            "offline_bytes_per_minute": feed.compact["bytes_per_minute"],
        },
        "method": {
            "latency": "last subscriber's CLOCK_MONOTONIC receive time minus the time just "
            "before the driver sent the update (trackside: relay POST; baseline: side channel)",
            "pacing": f"updates at least {args.interval_ms} ms apart, each sent only once the one "
            f"before reached all subscribers (+{args.settle_ms} ms)",
            "batch_ms": args.batch_ms,
            "subscriber_processes": args.processes,
            "baseline": "websockets.asyncio.server + broadcast() of the same bytes trackside "
            "sends, fed over a TCP side channel; snapshot on connect",
            "bytes": "payload bytes per subscriber (WebSocket framing excluded) over the race "
            "minutes the updates span, snapshot on connect included",
            "server": "trackside serve, SQLite (WAL) in a temp dir, in-memory broker, "
            "log level warning",
            "server_gc_threshold": gc_threshold,
        },
        "machine": {
            "cpus": os.cpu_count(),
            "memory_gb": round(psutil.virtual_memory().total / 1024**3, 1),
            "python": sys.version.split()[0],
            "platform": machine.platform(),
            "packages": _versions(),
            "load_average_before": [round(x, 2) for x in load_before],
            "note": "server, baseline, subscribers and driver share these CPUs; all on loopback",
        },
    }
    sys.stdout.write(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode() + "\n")


if __name__ == "__main__":
    main()
