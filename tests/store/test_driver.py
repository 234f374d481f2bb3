"""PostgreSQL's driver is an extra: a PostgreSQL URL without it says what to install."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import sys
sys.modules["asyncpg"] = None  # as if the postgres extra were not installed
from trackside.config import Settings
from trackside.store.db import MissingDriver, create_engine
create_engine(Settings(data_dir="/tmp", database_url="sqlite+aiosqlite:///:memory:"))
try:
    create_engine(Settings(database_url="postgresql+asyncpg://u@127.0.0.1/db"))
except MissingDriver as exc:
    print(exc)
"""


def test_a_postgresql_url_without_asyncpg_names_the_extra() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60, check=True
    )
    assert "pip install 'trackside[postgres]'" in done.stdout, done.stdout + done.stderr
