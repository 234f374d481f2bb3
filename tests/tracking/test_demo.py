"""``trackside demo --tracking`` as the README runs it: a field on the map, timed by gates."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO
from tests.databases import test_settings
from trackside.events import ingest
from trackside.platform import Platform


async def _checkpoint_records(data_dir: Path) -> list[str]:
    platform = await Platform.start(test_settings(data_dir, None), with_keys=False)
    try:
        async with platform.db_factory() as db:
            return await ingest.source_data(db, 1, "tracking", "checkpoint")
    finally:
        await platform.close()


def test_demo_moves_a_tracked_field(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKSIDE_")}
    env["TRACKSIDE_DATA_DIR"] = str(tmp_path / "data")
    exe = Path(sys.executable).parent / "trackside"
    args = ["--tracking", "--participants", "6", "--speed", "60", "--minutes", "12"]
    done = subprocess.run(
        [str(exe), "demo", "--port", "0", "--exit-when-done", *args],
        capture_output=True, text=True, cwd=REPO, env=env, timeout=240, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"Live map: http://127\.0\.0\.1:\d+/events/1/map", done.stdout)
    saved = int(re.search(r"Field finished: (\d+) fixes saved", done.stdout).group(1))
    assert saved >= 6 * 10  # six phones, a fix each second for about twelve seconds
    records = asyncio.run(_checkpoint_records(tmp_path / "data"))
    # Every runner has gone past the start and half way in twelve simulated minutes.
    assert len(records) >= 12
