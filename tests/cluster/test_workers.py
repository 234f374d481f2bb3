"""``trackside serve --workers N``: N uvicorn processes on one port, each a node of its own.

Real processes on the local PostgreSQL and a Redis of the test's own: the workers share the
port, so which one answers is the kernel's choice; fresh connections until both have.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psutil
import pytest
from typer.testing import CliRunner

from tests.cluster.nodes import NODE_ENV, PrivateRedis, free_port
from tests.processes import wait_answers
from trackside.cli import app


def _node_names(url: str, timeout_s: float = 60) -> set[str]:
    """The node names that answer ``/healthz`` over fresh, concurrent connections, until two
    have (a worker still starting takes none) or time runs out."""

    def ask(_: int) -> str:
        with httpx.Client(timeout=10) as http:  # a connection of its own each time
            reply = http.get(f"{url}/healthz")
            reply.raise_for_status()
            return str(reply.json()["node"])

    seen: set[str] = set()
    deadline = time.monotonic() + timeout_s
    with ThreadPoolExecutor(8) as pool:
        while len(seen) < 2 and time.monotonic() < deadline:
            seen |= set(pool.map(ask, range(16)))
    return seen


def test_two_workers_are_two_named_nodes(
    cluster_database: str, private_redis: PrivateRedis, cluster_root: Path
) -> None:
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("TRACKSIDE_")},
        **NODE_ENV,
        "TRACKSIDE_DATABASE_URL": cluster_database,
        "TRACKSIDE_REDIS_URL": private_redis.url,
        "TRACKSIDE_NODE_ID": "rack-1",
        "TRACKSIDE_DATA_DIR": str(cluster_root / "data"),
    }
    log_path = cluster_root / "serve.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "trackside.cli", "serve", "--host", "127.0.0.1",
             "--port", str(port), "--workers", "2"],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        assert wait_answers(server, f"{url}/readyz", 200, 90), log_path.read_text()
        names = _node_names(url)
        pids = {child.pid for child in psutil.Process(server.pid).children()}
        assert len(names) == 2, (names, log_path.read_text())
        assert {name.rsplit("/", 1)[0] for name in names} == {"rack-1"}
        assert {int(name.rsplit("/", 1)[1]) for name in names} <= pids
        for _ in range(10):  # every worker's platform is up, whichever answers
            assert httpx.get(f"{url}/readyz", timeout=10).json()["status"] == "ready"
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    assert server.returncode == 0, log_path.read_text()


@pytest.mark.parametrize(
    ("database", "redis", "why"),
    [
        (None, "redis://127.0.0.1:6379/0", "SQLite takes one writer"),
        ("postgresql+asyncpg://postgres@127.0.0.1:5432/nowhere", None, "TRACKSIDE_REDIS_URL"),
    ],
)
def test_workers_refuse_what_a_cluster_cannot_share(
    database: str | None,
    redis: str | None,
    why: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRACKSIDE_DATA_DIR", str(tmp_path))
    for name, value in (("DATABASE_URL", database), ("REDIS_URL", redis)):
        if value is None:
            monkeypatch.delenv(f"TRACKSIDE_{name}", raising=False)
        else:
            monkeypatch.setenv(f"TRACKSIDE_{name}", value)
    result = CliRunner().invoke(app, ["serve", "--port", str(free_port()), "--workers", "2"])
    assert result.exit_code == 2
    assert why in " ".join(result.output.split())
    assert not (tmp_path / "trackside.db").exists()  # refused before touching anything
