"""A real Redis for the broker and rate-limit tests, started here if it is not running."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator

import pytest

REDIS_HOST = "127.0.0.1"
REDIS_PORT = 6379
REDIS_URL = f"redis://{REDIS_HOST}:{REDIS_PORT}/0"
REDIS_START = [
    "redis-server",
    "--daemonize",
    "yes",
    "--bind",
    "127.0.0.1",
    "-::1",
    "--port",
    str(REDIS_PORT),
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    "/var/lib/redis",
    "--logfile",
    "/var/log/redis/ci.log",
]


def _redis_answers() -> bool:
    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=1.0) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """The URL of a running Redis; starts the machine's redis-server when none answers."""
    if not _redis_answers():
        subprocess.run(REDIS_START, check=True, capture_output=True, timeout=30)
        for _ in range(100):
            if _redis_answers():
                break
            time.sleep(0.1)
        else:
            pytest.fail(f"redis-server did not answer on {REDIS_HOST}:{REDIS_PORT}")
    yield REDIS_URL
