"""A real ``trackside serve`` with a seeded world, and a schemathesis run against it.

Used by ``tests/openapi/test_schemathesis.py`` and runnable by hand:
``.venv/bin/python -m tests.openapi.harness --examples 50`` prints schemathesis's own report.
Rate limits are raised by setting (environment), never by code.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.processes import wait_answers

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "schemathesis horse battery"
LIMITS = {
    "TRACKSIDE_LOGIN_RATE_LIMIT": "1000000",
    "TRACKSIDE_WRITE_RATE_LIMIT": "1000000",
    "TRACKSIDE_RELAY_RATE_LIMIT": "1000000",
    "TRACKSIDE_ACCESS_TOKEN_TTL_S": "36000",
    "TRACKSIDE_ARGON2_TIME_COST": "1",
    "TRACKSIDE_ARGON2_MEMORY_KIB": "64",
    "TRACKSIDE_ARGON2_PARALLELISM": "1",
}

# iRacing configured (its routes answer as they would in production, not 503), with its OAuth
# and Data API at a loopback port nothing listens on: nothing leaves the machine, and the
# seeded caller has no iRacing connection, so sync and import answer 404 before any upstream.
IRACING = {
    "TRACKSIDE_IRACING_CLIENT_ID": "schemathesis",
    "TRACKSIDE_IRACING_OAUTH_URL": "http://127.0.0.1:9",
    "TRACKSIDE_IRACING_DATA_URL": "http://127.0.0.1:9",
}


# The control-log poller may fetch loopback: hooks.py points every valid polled URL at a port
# nothing listens on, so no generated host is looked up or fetched from the internet.
POLLING = {"TRACKSIDE_FETCH_ALLOW_PRIVATE": "true"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serve(data_dir: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """A server on a fresh data dir with limits raised; yields its URL and its environment."""
    port = _free_port()
    env = {**os.environ, **LIMITS, **IRACING, **POLLING, "TRACKSIDE_DATA_DIR": str(data_dir)}
    log = (data_dir / "server.log").open("wb")
    process = subprocess.Popen(
        [str(BIN / "trackside"), "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        if not wait_answers(process, f"{url}/readyz", 200, 60):
            raise RuntimeError((data_dir / "server.log").read_text())
        yield url, env
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def seed_world(url: str, env: dict[str, str]) -> dict[str, object]:
    """An admin, an organization, a public event with a class, a session, an entry and loops."""
    subprocess.run(
        [
            *(str(BIN / "trackside"), "users", "create", "fuzzadmin"),
            *("--email", "fuzz@example.org", "--password", PASSWORD, "--role", "admin"),
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    http = httpx.Client(base_url=url, timeout=30)
    login = http.post("/auth/login", json={"username": "fuzzadmin", "password": PASSWORD})
    login.raise_for_status()
    token = login.json()["access"]
    http.headers["Authorization"] = f"Bearer {token}"

    def made(path: str, body: dict[str, object]) -> int:
        response = http.post(path, json=body)
        response.raise_for_status()
        return response.json()["id"]

    org = made("/organization", {"name": "Fuzz Club"})
    event = made(
        "/events",
        {
            "name": "Fuzz Enduro",
            "startDate": "2025-06-01T08:00:00Z",
            "endDate": "2025-06-02T18:00:00Z",
            "organizationId": org,
        },
    )
    race_class = made(f"/events/{event}/classes", {"name": "GT"})
    session = made(
        f"/events/{event}/sessions",
        {"name": "Race 1", "type": "race", "startTime": "2025-06-02T13:00:00Z"},
    )
    entry = made(
        f"/events/{event}/entries", {"number": "7", "driverName": "Ana", "classId": race_class}
    )
    me = http.get("/auth/me").json()
    return {
        "token": token,
        "organizationId": org,
        "eventId": event,
        "classId": race_class,
        "sessionId": session,
        "entryId": entry,
        "userId": me["id"],
    }


CONFIG = Path(__file__).with_name("schemathesis.toml")


def config(world: dict[str, object], examples: int, seed: int | None) -> str:
    """This run's seed, examples and admin token, then the checked-in exceptions."""
    lines = [] if seed is None else [f"seed = {seed}"]
    lines += ["[generation]", f"max-examples = {examples}"]
    lines += ["[headers]", f'Authorization = "Bearer {world["token"]}"']
    return "\n".join(lines) + "\n\n" + CONFIG.read_text()


def run(workdir: Path, examples: int, seed: int | None, extra: list[str]) -> int:
    """Serve, seed, and run ``schemathesis run --checks all``; returns its exit code."""
    workdir = workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    with serve(workdir) as (url, env):
        world = seed_world(url, env)
        toml = workdir / "schemathesis.toml"
        toml.write_text(config(world, examples, seed))
        ids = {k: v for k, v in world.items() if k != "token"}
        env = {
            **env,
            "TRACKSIDE_FUZZ_WORLD": json.dumps({**ids, "realm": "trackside"}),
            "SCHEMATHESIS_HOOKS": "tests.openapi.hooks",
            "PYTHONPATH": str(ROOT),
        }
        command = [
            str(BIN / "schemathesis"),
            "--config-file",
            str(toml),
            "run",
            f"{url}/openapi.json",
            "--checks",
            "all",
            "--workers",
            "1",
            *extra,
        ]
        # cwd: schemathesis keeps its cache (.schemathesis/) in the working directory.
        return subprocess.run(command, env=env, cwd=workdir, check=False).returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=50)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--workdir", type=Path, default=Path("schemathesis-run"))
    args, extra = parser.parse_known_args()
    sys.exit(run(args.workdir, args.examples, args.seed, extra))


if __name__ == "__main__":
    main()
