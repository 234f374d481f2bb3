"""Database fixtures: every persistence and API test runs on SQLite and on PostgreSQL.

PostgreSQL is the local server on 127.0.0.1:5432 (trust auth, user postgres). If it is not
running it is started; one throw-away database serves the whole test session and is dropped
at the end. ``TRACKSIDE_TEST_PG_URL`` points elsewhere.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import make_url

from trackside.config import Settings
from trackside.platform import Platform
from trackside.store.models import Base

PG_SERVER = os.environ.get("TRACKSIDE_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432")
KEEP = {"alembic_version", "signing_keys"}  # kept between tests: schema, and costly RSA keys


async def _pg_up(url: str) -> bool:
    u = make_url(url)
    try:
        conn = await asyncpg.connect(
            host=u.host, port=u.port or 5432, user=u.username, database="postgres", timeout=3
        )
    except (TimeoutError, OSError, asyncpg.PostgresError):
        return False
    await conn.close()
    return True


def _start_postgres() -> None:
    versions = sorted(os.listdir("/etc/postgresql")) if Path("/etc/postgresql").is_dir() else []
    if not versions or not shutil.which("pg_ctlcluster"):
        pytest.fail("PostgreSQL is not running and no local cluster to start was found")
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"],
        check=False,
        capture_output=True,
    )


async def _admin(sql: str) -> None:
    u = make_url(PG_SERVER)
    conn = await asyncpg.connect(
        host=u.host, port=u.port or 5432, user=u.username, database="postgres"
    )
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh database on the local PostgreSQL server (started if need be), dropped after."""
    if not asyncio.run(_pg_up(PG_SERVER)):
        _start_postgres()
        deadline = time.monotonic() + 30
        while not asyncio.run(_pg_up(PG_SERVER)):
            if time.monotonic() > deadline:
                pytest.fail(f"PostgreSQL did not come up at {PG_SERVER}")
            time.sleep(0.5)
    name = f"trackside_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{PG_SERVER.rstrip('/')}/{name}"
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_settings(data_dir: Path, database_url: str | None, **overrides: object) -> Settings:
    """Settings for tests: cheap argon2, nothing read from the environment."""
    values: dict[str, object] = {
        "data_dir": data_dir,
        "database_url": database_url,
        "argon2_time_cost": 1,
        "argon2_memory_kib": 8,
        "argon2_parallelism": 1,
        "public_url": None,
        # In-process clients use http://test; real servers in tests listen on 127.0.0.1.
        "allowed_hosts": "test,127.0.0.1,localhost",
        "smtp_url": None,
        "log_level": "warning",
    }
    values.update(overrides)
    return Settings.model_validate(values)


test_settings.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file with a signing key, copied for each test (RSA keys are slow)."""
    data_dir = tmp_path_factory.mktemp("sqlite-template")

    async def make() -> None:
        await (await Platform.start(test_settings(data_dir, None))).close()

    asyncio.run(make())
    return data_dir / "trackside.db"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str | None:
    """``None`` = the default SQLite file in the data dir; else a clean PostgreSQL database."""
    if request.param == "sqlite":
        (tmp_path / "data").mkdir()
        shutil.copy(request.getfixturevalue("sqlite_template"), tmp_path / "data" / "trackside.db")
        return None
    url = request.getfixturevalue("postgres_url")
    asyncio.run(_truncate(url))
    return url


async def _truncate(url: str) -> None:
    u = make_url(url)
    conn = await asyncpg.connect(
        host=u.host, port=u.port or 5432, user=u.username, database=u.database
    )
    try:
        exists = await conn.fetchval("SELECT to_regclass('public.users') IS NOT NULL")
        if exists:
            # DELETE beats TRUNCATE on tables this small (TRUNCATE rewrites every file).
            for table in reversed(Base.metadata.sorted_tables):
                if table.name not in KEEP:
                    await conn.execute(f"DELETE FROM {table.name}")
    finally:
        await conn.close()


@pytest.fixture
def settings(tmp_path: Path, database_url: str | None) -> Settings:
    return test_settings(tmp_path / "data", database_url)


@pytest.fixture
async def platform(settings: Settings) -> AsyncIterator[Platform]:
    started = await Platform.start(settings)
    try:
        yield started
    finally:
        await started.close()
