"""One node polls each event's race-control log, whichever node the source was put through;
when that node dies (SIGKILL), another takes the lease and polls from then on."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.cluster.nodes import Cluster
from tests.cluster.seed import seed_event, wait_for
from tests.controllog.test_poll import LOG, LogHost, Quiet


class Recording(Quiet):
    """Notes which node fetched which file: the poller names its node in its User-Agent."""

    fetches: list[tuple[str, str]] = []
    lock = threading.Lock()

    def do_GET(self) -> None:
        with self.lock:
            self.fetches.append((self.path, self.headers.get("User-Agent", "")))
        super().do_GET()


@pytest.fixture
def log_host(tmp_path: Path) -> Iterator[tuple[type[Recording], str]]:
    folder = tmp_path / "www"
    folder.mkdir()
    (folder / "log.csv").write_text(LOG)
    (folder / "moved.csv").write_text(LOG.replace("Contact,\n", "Contact,Drive through\n"))
    recording = type("Fetches", (Recording,), {"fetches": []})
    host = LogHost(folder, recording)
    yield recording, f"http://127.0.0.1:{host.port}"
    host.stop()


@pytest.fixture
def cluster(cluster_database: str, cluster_root: Path) -> Iterator[Cluster]:
    env = {"TRACKSIDE_FETCH_ALLOW_PRIVATE": "true"}  # race control's host is on loopback
    nodes = Cluster(cluster_database, None, 2, cluster_root, env)
    try:
        nodes.start()
        yield nodes
    finally:
        nodes.stop()


def pollers(fetches: list[tuple[str, str]], path: str) -> set[str]:
    return {
        agent.rsplit("(node ", 1)[-1].rstrip(")") for fetched, agent in fetches if fetched == path
    }


def test_one_node_polls_and_another_takes_over_when_it_dies(
    cluster: Cluster, log_host: tuple[type[Recording], str]
) -> None:
    recording, base = log_host
    fetches = recording.fetches
    headers, event = seed_event(cluster)
    a, b = cluster.nodes
    source = f"/events/{event}/control-log/source"
    put = httpx.put(
        f"{a.url}{source}", json={"url": f"{base}/log.csv", "intervalS": 0.5}, headers=headers
    )
    assert put.status_code == 200, put.text

    # Enough polls for both nodes to have looked for unpolled sources several times.
    wait_for(lambda: len(fetches) >= 12, "12 polls of the log")
    (holder,) = pollers(fetches, "/log.csv")

    # The source changed through the other node: the holder follows, no one else polls.
    other = b if holder == a.name else a
    put = httpx.put(
        f"{other.url}{source}", json={"url": f"{base}/moved.csv", "intervalS": 0.5}, headers=headers
    )
    assert put.status_code == 200, put.text
    wait_for(lambda: len([f for f in fetches if f[0] == "/moved.csv"]) >= 6, "the new URL polled")
    assert pollers(fetches, "/moved.csv") == {holder}
    assert pollers(fetches, "/log.csv") == {holder}

    def revision(node_url: str) -> int:
        entries = httpx.get(f"{node_url}/events/{event}/control-log").json()["entries"]
        return max((entry["revision"] for entry in entries), default=0)

    wait_for(lambda: revision(other.url) == 2, "the moved log imported, seen on either node")

    # The holder dies without a word: the survivor takes the lease and polls.
    (a if holder == a.name else b).kill()
    killed_at = len(fetches)
    wait_for(lambda: other.name in pollers(fetches[killed_at:], "/moved.csv"), "a takeover")
    assert pollers(fetches[killed_at:], "/moved.csv") == {other.name}
    polled = httpx.get(f"{other.url}{source}", headers=headers).json()
    assert polled["lastStatus"].startswith("ok: 2 rows"), polled
