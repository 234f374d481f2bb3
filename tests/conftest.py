"""Shared fixtures: the real captures in ../shared/data are the conformance suite."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = [
    "tests.databases",  # SQLite + PostgreSQL fixtures for store and packages
    "tests.redisserver",  # a real Redis (redis_url), started if down
    "tests.app",  # the app, a client and a world for API tests
    "tests.cluster.nodes",  # several real server nodes on PostgreSQL + Redis
]

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "data"
RMONITOR = DATA / "rmonitor"


def capture(name: str) -> Path:
    path = RMONITOR / name
    if not path.exists():  # pragma: no cover - the suite needs shared/ beside the checkout
        pytest.fail(f"capture missing: {path} (shared/ must sit beside the checkout)")
    return path


@pytest.fixture
def rmonitor_dir() -> Path:
    return RMONITOR
