"""iRacing tests run the app against the local fake of iRacing (tests/iracing/fake_iracing.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.databases import test_settings
from tests.iracing import samples
from tests.iracing.fake_iracing import CLIENT_ID, CLIENT_SECRET, FakeState, running
from trackside.config import Settings

REDIRECT = "http://test/auth/iracing/callback"


@pytest.fixture(scope="session")
def fake_server() -> Iterator[FakeState]:
    with running() as state:
        yield state


@pytest.fixture
def fake(fake_server: FakeState) -> FakeState:
    """The running fake, its scripted state reset for each test."""
    fresh = FakeState(base_url=fake_server.base_url)
    with fake_server.lock:
        for name in fresh.__dataclass_fields__:
            if name not in ("base_url", "lock"):
                setattr(fake_server, name, getattr(fresh, name))
        fake_server.redirect_uris = {REDIRECT}
        fake_server.documents = samples.documents()
    return fake_server


@pytest.fixture
def settings(tmp_path: Path, database_url: str | None, fake: FakeState) -> Settings:
    return test_settings(
        tmp_path / "data",
        database_url,
        iracing_client_id=CLIENT_ID,
        iracing_client_secret=CLIENT_SECRET,
        iracing_oauth_url=f"{fake.base_url}/oauth2",
        iracing_data_url=fake.base_url,
        iracing_rate_limit_wait_s=3.0,
    )
