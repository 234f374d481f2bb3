"""Cluster benchmark: N ``trackside serve`` nodes on one PostgreSQL and one Redis, thousands of
WebSocket viewers spread over them, a relay posting a real capture round robin across them.

- **trackside**: ``--nodes`` real server processes (``tests/cluster/nodes.py``) on a database
  and a ``redis-server`` of the benchmark's own, one public event with an official relay
  client. The driver posts the entries, the grid and the race start up to the green flag
  (uncounted, round robin), waits until every node shows the same live version, connects
  ``--viewers`` viewers to ``/ws/events/{id}``, viewer ``i`` on node ``i mod N``, then posts the
  race (``benchmarks/live.py``'s Road America feed: one relay batch per update, the lines that
  arrived within ``--batch-ms``), batch ``k`` to node ``k mod N``, at the capture's own pace
  scaled so the race fills ``--duration`` seconds. It does not wait for viewers between posts:
  a relay doesn't.
- **baseline**, same run, same viewer processes: ``--nodes`` bare ``websockets`` broadcast
  servers (``benchmarks/live_baseline.py``), the viewers spread the same way, each server
  handed the very bytes trackside sends for each update on the same schedule, for the first
  ``--baseline-duration`` seconds of it.

Viewers (``benchmarks/cluster_viewers.py``, ``picows`` clients) live in ``--processes``
separate processes and behave as live clients must: on a gap or another epoch they ask for a
fresh snapshot. Latency of update ``k`` = the last viewer's ``CLOCK_MONOTONIC`` receive time
minus the moment just before its relay POST. A **drop** is a viewer that lost its connection,
or saw a gap and got no fresh snapshot by the end. Latencies count the updates that reached
every viewer; ``incomplete_updates`` and ``updates_seen_by_viewers`` tell how many did not
(nodes publishing patch chains of their own, or one patch for several batches, show there).
Every node's RSS is sampled every ``--sample-s``; it is **flat** when every sample after
``--warmup-s`` stays within ±10 % of the first one after it.

Prints one JSON document (progress on stderr); every process it started is stopped on exit,
error or not. Lifts its open-files limit to the hard limit before it starts anything, so the
nodes and viewer processes inherit it: each holds its share of the viewers' sockets (a node
``viewers / nodes``, a viewer process ``viewers / processes``), and the machine both ends of
all of them.

    .venv/bin/python benchmarks/cluster.py [--nodes 3] [--viewers 10000] [--duration 600]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform as machine
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import cluster_viewers
import httpx
import live
import orjson
import psutil
from live_subscribers import raise_fd_limit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the tests' cluster harness

from tests.cluster.nodes import Cluster, PrivateRedis, own_database
from trackside.events.ingest import MAX_BATCH

SETTLE_TIMEOUT_S = 60.0
FLAT = 0.10  # RSS within ±10 % of the first sample after warm-up
TOKEN = "/realms/trackside/protocol/openid-connect/token"


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


class RssSampler(threading.Thread):
    """Every node's RSS (MB) every ``interval`` seconds, with the time since the start."""

    def __init__(self, pids: dict[str, int], interval: float) -> None:
        super().__init__(daemon=True)
        self.pids = pids
        self.interval = interval
        self.samples: dict[str, list[tuple[float, float]]] = {name: [] for name in pids}
        self.started = time.monotonic()
        self.done = threading.Event()

    def run(self) -> None:
        while True:
            at = round(time.monotonic() - self.started, 1)
            for name, pid in self.pids.items():
                with contextlib.suppress(psutil.Error):
                    self.samples[name].append((at, live.rss_mb(pid)))
            if self.done.wait(self.interval):
                return

    def report(self, warmup_s: float) -> dict[str, Any]:
        nodes: dict[str, Any] = {}
        for name, samples in self.samples.items():
            after = [rss for at, rss in samples if at >= warmup_s]
            figures: dict[str, Any] = {"samples": samples}
            if after:
                reference = after[0]
                figures.update(
                    after_warmup={"first": reference, "min": min(after), "max": max(after)},
                    flat=min(after) >= reference * (1 - FLAT)
                    and max(after) <= reference * (1 + FLAT),
                )
            else:
                figures["flat"] = None  # the run ended within the warm-up
            nodes[name] = figures
        return nodes


def schedule_of(feed: live.Feed, duration: float) -> list[float]:
    """When to post each batch (seconds from the first): the capture's pace, scaled to fill
    ``duration``."""
    first = feed.batch_times[0]
    span = max(feed.batch_times[-1] - first, 1) / 1000
    scale = duration / span
    return [(at - first) / 1000 * scale for at in feed.batch_times]


def settle(cluster: Cluster, event_id: int) -> int:
    """Wait until every node shows the same live version for a second; return it."""
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    last: tuple[int, ...] = ()
    since = time.monotonic()
    while time.monotonic() < deadline:
        versions = tuple(
            int(httpx.get(f"{node.url}/events/{event_id}/live", timeout=10).json()["version"])
            for node in cluster.nodes
        )
        if versions != last:
            last, since = versions, time.monotonic()
        elif len(set(versions)) == 1 and time.monotonic() - since >= 1.0:
            return versions[0]
        time.sleep(0.2)
    raise RuntimeError(f"the nodes' live versions never agreed: {last}")


def split(total: int, parts: int) -> list[int]:
    return [total // parts + (i < total % parts) for i in range(parts)]


def connect(viewers: live.Subscribers, urls: list[str], count: int) -> dict[str, Any]:
    replies = viewers.ask("connect", urls, shares=split(count, len(viewers.pipes)))
    connected = sum(r["connected"] for r in replies)
    per_node = [sum(r["per_node"][i] for r in replies) for i in range(len(urls))]
    figures = {
        "connected": connected,
        "per_node": per_node,
        "connect_seconds": max(r["seconds"] for r in replies),
        "snapshot_versions": sorted({b for r in replies for b in r["bases"]}),
        "epochs": sorted({e for r in replies for e in r["epochs"]}),
    }
    if connected < count:
        errors = [e for r in replies for e in r["errors"]]
        raise RuntimeError(f"{connected} of {count} viewers connected: {errors[:3]}")
    return figures


def deliver(
    viewers: live.Subscribers, schedule: list[float], send: Any, count: int, connected: int
) -> dict[str, Any]:
    """Post update ``k`` at ``schedule[k]`` (never before the one before was acknowledged),
    wait for the last ones to arrive, and measure."""
    sent_at: list[float] = []
    acked: list[float] = []
    started = time.monotonic()
    for index in range(count):
        pause = started + schedule[index] - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        begun = time.monotonic()
        send(index)
        acked.append(time.monotonic() - begun)
        sent_at.append(begun)
    deadline = time.monotonic() + live.UPDATE_TIMEOUT_S
    while viewers.delivered(count - 1) < connected and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.3)  # stragglers
    elapsed = time.monotonic() - started
    replies = viewers.ask("collect")
    complete = [i for i in range(count) if viewers.delivered(i) >= connected]
    last = [max(r["last"][i] for r in replies) for i in range(count)]
    first = [min(r["first"][i] for r in replies) for i in range(count)]
    lost = sum(r["lost"] for r in replies)
    seen = [index + 1 for r in replies for index in r["seen"]]
    stale = sum(r["stale"] for r in replies)
    return {
        "seconds": round(elapsed, 1),
        "updates": count,
        "latency_ms": live.summary([last[i] - sent_at[i] for i in complete]),
        "first_viewer_ms": live.summary([first[i] - sent_at[i] for i in complete]),
        "send_ms": live.summary(acked),
        "incomplete_updates": count - len(complete),
        # How many updates each viewer's last version accounts for: all of them when one
        # processor publishes one patch per relay batch for every node's viewers.
        "updates_seen_by_viewers": {"min": min(seen, default=0), "max": max(seen, default=0)},
        "drops": {"total": lost + stale, "connection_lost": lost, "gap_without_resync": stale},
        "resyncs": sum(r["resyncs"] for r in replies),
        "viewers_resynced": sum(r["viewers_resynced"] for r in replies),
        "epochs_changed": sum(r["epochs_changed"] for r in replies),
    }


def relay_token(url: str, client_id: str, secret: str) -> dict[str, str]:
    reply = httpx.post(
        f"{url}{TOKEN}",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
        timeout=30,
    )
    reply.raise_for_status()
    token = reply.json()["access_token"]
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


def run_cluster(
    feed: live.Feed,
    viewers: live.Subscribers,
    cluster: Cluster,
    event: tuple[int, str, str],
    schedule: list[float],
    args: argparse.Namespace,
) -> dict[str, Any]:
    event_id, client_id, secret = event
    nodes = cluster.nodes
    headers = relay_token(nodes[0].url, client_id, secret)
    path = f"/relay/events/{event_id}/records"
    clients = [httpx.Client(base_url=node.url, headers=headers, timeout=30) for node in nodes]
    try:
        for index, start in enumerate(range(0, len(feed.warmup), MAX_BATCH)):
            chunk = feed.warmup[start : start + MAX_BATCH]
            body = {
                "source": "rmonitor",
                "records": [
                    {"seq": start + i + 1, "received_at": at, "type": "rmonitor", "data": line}
                    for i, (at, line) in enumerate(chunk)
                ],
            }
            clients[index % len(clients)].post(path, content=orjson.dumps(body)).raise_for_status()
        version = settle(cluster, event_id)
        say(f"warm-up posted; every node at live version {version}; connecting {args.viewers}")
        pids = {node.name: node.process.pid for node in nodes if node.process is not None}
        rss_before = {name: live.rss_mb(pid) for name, pid in pids.items()}
        cpu_before = {name: live.cpu_of(pid) for name, pid in pids.items()}
        urls = [f"{node.ws_url}/ws/events/{event_id}" for node in nodes]
        connected = connect(viewers, urls, args.viewers)
        rss_connected = {name: live.rss_mb(pid) for name, pid in pids.items()}
        say(f"{connected['connected']} viewers in {connected['connect_seconds']} s; racing")
        bodies = list(feed.bodies("rmonitor", len(feed.warmup) + 1))
        failures: list[str] = []

        def send(index: int) -> None:
            reply = clients[index % len(clients)].post(path, content=bodies[index])
            if reply.status_code != 200:
                failures.append(f"update {index}: {reply.status_code} {reply.text[:200]}")

        sampler = RssSampler(pids, args.sample_s)
        sampler.start()
        try:
            figures = deliver(viewers, schedule, send, len(bodies), connected["connected"])
        finally:
            sampler.done.set()
            sampler.join()
        viewers.ask("close")
    finally:
        for client in clients:
            client.close()
    figures.update(
        viewers=connected,
        relay_failures=len(failures),
        relay_failure_samples=failures[:3],
        rss_mb={
            "before_viewers": rss_before,
            "viewers_connected": rss_connected,
            "over_time": sampler.report(args.warmup_s),
        },
        node_cpu_seconds={
            name: round(live.cpu_of(pid) - cpu_before[name], 1) for name, pid in pids.items()
        },
    )
    return figures


def run_baseline(
    feed: live.Feed,
    viewers: live.Subscribers,
    children: live.Children,
    epoch: int,
    schedule: list[float],
    args: argparse.Namespace,
) -> dict[str, Any]:
    snapshot, messages = feed.with_epoch(epoch)
    servers = [live.start_baseline(children) for _ in range(args.nodes)]
    controls = [control for _, _, control in servers]

    def post(kind: bytes, payload: bytes) -> None:
        frame = live.HEADER.pack(kind, len(payload)) + payload
        for control in controls:
            control.sendall(frame)
        for control in controls:
            if control.recv(1) != b"k":
                raise RuntimeError("a baseline server stopped")

    post(b"S", snapshot)
    urls = [f"ws://127.0.0.1:{port}/" for _, port, _ in servers]
    connected = connect(viewers, urls, args.viewers)
    count = sum(at <= args.baseline_duration for at in schedule)
    figures = deliver(
        viewers,
        schedule,
        lambda index: post(b"U", messages[index]),
        count,
        connected["connected"],
    )
    figures["viewers"] = connected
    figures["server_rss_mb"] = [live.rss_mb(child.pid) for child, _, _ in servers]
    viewers.ask("close")
    for control in controls:
        control.close()
    return figures


def ratio(ours: float | None, theirs: float | None) -> float | None:
    return round(ours / theirs, 2) if ours and theirs else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=3, help="trackside server nodes")
    parser.add_argument("--viewers", type=int, default=10_000, help="WebSocket viewers in all")
    parser.add_argument(
        "--duration", type=float, default=600.0, help="seconds the race is posted over"
    )
    parser.add_argument(
        "--baseline-duration",
        type=float,
        default=120.0,
        help="seconds of the same schedule the baseline is driven for",
    )
    parser.add_argument("--processes", type=int, default=4, help="viewer processes")
    parser.add_argument(
        "--batch-ms", type=int, default=100, help="lines received this close go together"
    )
    parser.add_argument("--sample-s", type=float, default=5.0, help="RSS sampling interval")
    parser.add_argument(
        "--warmup-s",
        type=float,
        default=None,
        help="RSS samples before this (from the first update) are warm-up "
        "[default: 10 %% of --duration, at least 10 s]",
    )
    parser.add_argument("--data", type=Path, default=live.DATA, help="folder of the captures")
    args = parser.parse_args()
    if args.warmup_s is None:
        args.warmup_s = max(10.0, args.duration / 10)
    load_before = os.getloadavg()
    limit = raise_fd_limit()
    share = -(-args.viewers // min(args.nodes, args.processes))
    if limit < share + 1024:
        say(f"warning: open-files limit {limit} is low for {share} sockets in one process")

    feed = live.load_feed(args.data, 1_000_000, args.batch_ms)
    schedule = schedule_of(feed, args.duration)
    say(f"{len(feed.batches)} updates over {args.duration} s, {len(feed.warmup)} warm-up lines")
    children = live.Children()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwind: the finally stops all
    redis = PrivateRedis()
    cluster: Cluster | None = None
    try:
        with (
            own_database("trackside_bench") as database,
            tempfile.TemporaryDirectory(prefix="trackside-cluster-bench-") as tmp,
        ):
            root = Path(tmp)
            redis.start()
            (event,) = asyncio.run(live._make_world(root / "setup", [args.viewers], database))
            cluster = Cluster(
                database,
                redis.url,
                args.nodes,
                root,
                env={"TRACKSIDE_CLIENT_TOKEN_TTL_S": str(int(args.duration) + 3600)},
            )
            cluster.start()
            say(f"{args.nodes} nodes up: {[node.url for node in cluster.nodes]}")
            viewers = live.Subscribers(
                children, args.processes, len(feed.batches), target=cluster_viewers.run
            )
            ours = run_cluster(feed, viewers, cluster, event, schedule, args)
            cluster.stop()
            epochs = ours["viewers"]["epochs"]
            say(f"trackside p99 {ours['latency_ms']['p99']} ms; baseline next")
            theirs = run_baseline(
                feed, viewers, children, epochs[0] if epochs else 0, schedule, args
            )
            viewers.ask("exit")
    finally:
        children.stop()
        if cluster is not None:
            cluster.stop()
        redis.stop()

    rss = ours["rss_mb"]["over_time"]
    report = {
        "benchmark": "cluster: relay POST round robin over N nodes to the last of the WebSocket "
        "viewers spread over them",
        "nodes": args.nodes,
        "viewers": args.viewers,
        "duration_s": args.duration,
        "trackside_ms": {k: ours["latency_ms"][k] for k in ("p50", "p99")},
        "baseline_ms": {k: theirs["latency_ms"][k] for k in ("p50", "p99")},
        "ratio_p50": ratio(ours["latency_ms"]["p50"], theirs["latency_ms"]["p50"]),
        "ratio_p99": ratio(ours["latency_ms"]["p99"], theirs["latency_ms"]["p99"]),
        "drops": ours["drops"]["total"],
        # Latencies are of the updates that reached every viewer; these say how many did not.
        "incomplete_updates": ours["incomplete_updates"],
        "updates_seen_by_viewers": ours["updates_seen_by_viewers"],
        "rss_flat": all(node["flat"] for node in rss.values()),
        "rss_mb_after_warmup": {name: node.get("after_warmup") for name, node in rss.items()},
        "trackside": ours,
        "baseline": theirs,
        "method": {
            "latency": "last viewer's CLOCK_MONOTONIC receive time minus the time just before "
            "the update's relay POST (baseline: its side-channel send to every server)",
            "pacing": "the capture's receive times scaled to fill --duration; a POST waits for "
            "the one before to be acknowledged, never for viewers",
            "relay": "batch k posted to node k mod N (no sticky sessions)",
            "viewers": f"picows clients in {args.processes} processes, viewer i on node i mod N; "
            "a gap or another epoch makes a viewer send resync",
            "drops": "viewers that lost their connection, or saw a gap and had no fresh "
            "snapshot by the end",
            "rss": f"sampled every {args.sample_s} s from the first update; flat = every "
            f"sample after {args.warmup_s} s within ±10 % of the first one after it",
            "servers": "trackside serve on PostgreSQL (a database of its own) and a "
            "redis-server of its own, log level warning",
            "baseline": f"{args.nodes} websockets broadcast servers (benchmarks/live_baseline.py) "
            f"fed the bytes trackside sends, for the first {args.baseline_duration} s of the "
            "same schedule",
        },
        "machine": {
            "cpus": os.cpu_count(),
            "memory_gb": round(psutil.virtual_memory().total / 1024**3, 1),
            "python": sys.version.split()[0],
            "platform": machine.platform(),
            "open_files_limit": limit,
            "load_average_before": [round(x, 2) for x in load_before],
            "note": "nodes, PostgreSQL, Redis, viewers and driver share these CPUs; loopback",
        },
    }
    sys.stdout.write(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode() + "\n")


if __name__ == "__main__":
    main()
