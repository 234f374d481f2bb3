"""Several real ``trackside serve`` nodes on one PostgreSQL database and one Redis, on loopback.

A cluster test gets its own database and, when it must stop Redis, its own ``redis-server``
(``PrivateRedis``); nodes are real processes that can be killed (SIGKILL) and started again.
The first node starts alone (it migrates the database and makes the signing keys), the others
after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.databases import PG_SERVER, _admin
from tests.processes import wait_answers

PASSWORD = "cluster horse battery staple"
NODE_ENV = {
    "TRACKSIDE_ARGON2_TIME_COST": "1",
    "TRACKSIDE_ARGON2_MEMORY_KIB": "8",
    "TRACKSIDE_ARGON2_PARALLELISM": "1",
    "TRACKSIDE_LOG_LEVEL": "warning",
    "TRACKSIDE_RELAY_RATE_LIMIT": "1000000",
    "TRACKSIDE_WRITE_RATE_LIMIT": "1000000",
    "TRACKSIDE_LOGIN_RATE_LIMIT": "1000000",
    "TRACKSIDE_LEASE_TTL_S": "3",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateRedis:
    """A ``redis-server`` of the test's own on a free port, so it can be stopped and restarted
    (the machine's Redis on 6379 serves every other test)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None


class Node:
    """One server process: its name, URL, log, and the means to kill and restart it."""

    def __init__(self, name: str, env: dict[str, str], data_dir: Path) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        data_dir.mkdir(parents=True, exist_ok=True)
        self.env = {**env, "TRACKSIDE_NODE_ID": name, "TRACKSIDE_DATA_DIR": str(data_dir)}
        self.log_path = data_dir / "server.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 60) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "trackside.cli", "serve", "--host", "127.0.0.1",
             "--port", str(self.port)],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        log.close()
        if not wait_answers(self.process, f"{self.url}/readyz", 200, timeout_s):
            raise RuntimeError(f"node {self.name} did not start:\n{self.log()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, as when a machine dies."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


class Cluster:
    """``size`` nodes on ``database_url`` and ``redis_url``; ``cli`` runs ``trackside`` commands
    against the same database."""

    def __init__(
        self,
        database_url: str,
        redis_url: str | None,
        size: int,
        root: Path,
        env: dict[str, str] | None = None,
    ) -> None:
        base = {k: v for k, v in os.environ.items() if not k.startswith("TRACKSIDE_")}
        base.update(NODE_ENV)
        base["TRACKSIDE_DATABASE_URL"] = database_url
        if redis_url:
            base["TRACKSIDE_REDIS_URL"] = redis_url
        base["TRACKSIDE_ALLOWED_HOSTS"] = "127.0.0.1,localhost"
        base.update(env or {})
        self.env = base
        self.root = root
        self.nodes = [Node(f"node-{i}", base, root / f"node-{i}") for i in range(size)]

    def start(self) -> None:
        self.nodes[0].start()  # migrates and makes the keys; the others find them
        for node in self.nodes[1:]:
            node.start()

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

    def logs(self) -> str:
        return "\n".join(f"--- {node.name}\n{node.log()[-4000:]}" for node in self.nodes)

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "trackside.cli", *args],
            env={**self.env, "TRACKSIDE_DATA_DIR": str(self.root / "cli")},
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode != 0:
            raise RuntimeError(done.stderr)
        return done.stdout

    def admin_token(self, username: str = "clusteradmin") -> str:
        """An admin account (made once) and an access token for it, from node 0."""
        try:
            self.cli("users", "create", username, "--email", f"{username}@example.org",
                     "--password", PASSWORD, "--role", "admin")  # fmt: skip
        except RuntimeError as exc:
            if "exists" not in str(exc).lower():
                raise
        login = httpx.post(
            f"{self.nodes[0].url}/auth/login",
            json={"username": username, "password": PASSWORD},
            timeout=30,
        )
        login.raise_for_status()
        return str(login.json()["access"])


@contextlib.contextmanager
def own_database(prefix: str = "trackside_cluster") -> Iterator[str]:
    """A database of its own on the local PostgreSQL (started if down), dropped after: for a
    cluster test, or ``benchmarks/cluster.py``."""
    from tests.databases import _pg_up, _start_postgres

    if not asyncio.run(_pg_up(PG_SERVER)):
        _start_postgres()
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{PG_SERVER.rstrip('/')}/{name}"
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def cluster_database() -> Iterator[str]:
    """A database of the cluster test's own on the local PostgreSQL, dropped after."""
    with own_database() as url:
        yield url


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    redis = PrivateRedis()
    redis.start()
    try:
        yield redis
    finally:
        redis.stop()


@pytest.fixture
def cluster_root() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="trackside-cluster-") as root:
        yield Path(root)
