"""A real InfluxDB 1.x (Debian's ``influxdb`` package) on a free port with a throw-away data dir.

Used by the tests (a session fixture) and by ``benchmarks/telemetry.py``. When ``influxd`` is
missing it is installed with apt-get (as root), as the test set-up promises.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.processes import wait_answers

CONFIG = """reporting-disabled = true
bind-address = "127.0.0.1:{rpc}"

[meta]
  dir = "{root}/meta"

[data]
  dir = "{root}/data"
  wal-dir = "{root}/wal"
  query-log-enabled = false
  trace-logging-enabled = false

[http]
  enabled = true
  bind-address = "127.0.0.1:{http}"
  log-enabled = false
  max-body-size = 0

[monitor]
  store-enabled = false

[continuous_queries]
  enabled = false
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_installed() -> str:
    found = shutil.which("influxd") or (
        "/usr/bin/influxd" if Path("/usr/bin/influxd").exists() else None
    )
    if found:
        return found
    if os.geteuid() != 0:
        raise RuntimeError("influxd is missing and only root may apt-get install influxdb")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "influxdb"], check=True, env=env)
    return shutil.which("influxd") or "/usr/bin/influxd"


@contextmanager
def running_influxd() -> Iterator[str]:
    """Start influxd; yield its base URL (http://127.0.0.1:port); stop it and wipe its data."""
    binary = ensure_installed()
    root = Path(tempfile.mkdtemp(prefix="influxd-"))
    http_port, rpc_port = free_port(), free_port()
    config = root / "influxdb.conf"
    config.write_text(CONFIG.format(root=root, http=http_port, rpc=rpc_port))
    log = (root / "influxd.log").open("wb")
    process = subprocess.Popen(
        [binary, "-config", str(config)], stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{http_port}"
    try:
        if not wait_answers(process, f"{url}/ping", 204, 30):
            raise RuntimeError(f"influxd did not start: {(root / 'influxd.log').read_text()}")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        shutil.rmtree(root, ignore_errors=True)
