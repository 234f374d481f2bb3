"""The DuckDB store beside other processes: DuckDB locks its file for one process, so it is
opened on first use and a CLI command runs next to a server holding it; a store that cannot
open its file answers 503, not a crash."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.api.world import World
from tests.conftest import REPO


def _cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKSIDE_")}
    env["TRACKSIDE_DATA_DIR"] = str(data_dir)
    exe = Path(sys.executable).parent / "trackside"
    return subprocess.run(
        [str(exe), *args], capture_output=True, text=True, cwd=REPO, env=env, timeout=120
    )


async def test_a_cli_command_runs_beside_a_server_holding_the_store(world: World) -> None:
    written = await world.client.post(
        "/write-graph",
        json={"timestamp": 1733346000, "value": 1.0},
        headers=world.auth("telemetry_writer"),
    )
    assert written.status_code == 200
    data_dir = world.platform.settings.data_dir
    assert (data_dir / "telemetry.duckdb").exists()
    listed = _cli(data_dir, "users", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert "telemetry_writer" in listed.stdout


async def test_a_store_it_cannot_open_answers_503(world: World, tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True);"
            " time.sleep(60)",
            str(tmp_path / "held.duckdb"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        store = world.platform.telemetry.store
        store.path = tmp_path / "held.duckdb"  # type: ignore[attr-defined]  # before first use
        await store.close()
        await store.start()
        refused = await world.client.post(
            "/write-graph",
            json={"timestamp": 1733346000, "value": 1.0},
            headers=world.auth("telemetry_writer"),
        )
        assert refused.status_code == 503
        assert "lock" in refused.json()["detail"]
        reading = await world.client.get(
            "/api/telemetry/query", params={"measurement": "graph"}, headers=world.auth("viewer")
        )
        assert reading.status_code == 503
    finally:
        holder.kill()
        holder.wait()
