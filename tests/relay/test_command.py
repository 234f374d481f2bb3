"""``trackside relay`` as a process: killed with SIGKILL mid-feed while the server is down,
started again, it delivers every record exactly once, then stops cleanly on SIGTERM.

The server here is the contract double (acknowledgement-based resume is contract behaviour);
the same run against trackside's own server is the end-to-end test written after the merge.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from pathlib import Path

from tests.conftest import REPO
from tests.relay.conftest import SECRET
from tests.relay.contract_server import ContractServer
from tests.relay.helpers import P3_CAPTURE, Player, capture_lines, p3_frames, texts, wait_until
from tests.relay.helpers import wire as wire_lines

LINES = capture_lines("barber-2025-03-01-finish.log")


def count(queue: Path, source: str) -> int:
    """Records the relay has committed to its queue (read from the file, as another process)."""
    if not queue.exists():
        return 0
    db = sqlite3.connect(queue)
    try:
        row = db.execute("SELECT last_seq FROM sources WHERE name = ?", (source,)).fetchone()
    except sqlite3.OperationalError:  # not created yet
        return 0
    finally:
        db.close()
    return row[0] if row else 0


async def start_relay(args: list[str], output: Path) -> asyncio.subprocess.Process:
    env = {**os.environ, "TRACKSIDE_RELAY_CLIENT_SECRET": SECRET}
    with output.open("ab") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-c", "from trackside.cli import main; main()", "relay", *args,
            cwd=REPO, env=env, stdout=out, stderr=out,
        )  # fmt: skip


def running(relay: asyncio.subprocess.Process) -> bool:
    assert relay.returncode is None, "the relay exited; see its output in out.txt"
    return True


def append(path: Path, data: bytes) -> None:
    with path.open("ab") as fh:
        fh.write(data)


async def test_kill_and_outage_lose_and_repeat_nothing(
    tmp_path: Path, server: ContractServer
) -> None:
    feed, queue, output = tmp_path / "feed.log", tmp_path / "queue.sqlite", tmp_path / "out.txt"
    frames = p3_frames()
    decoder = Player([b"".join(frames)], close=[False])
    port = await decoder.start()
    args = [
        "--server", server.url, "--event", "7", "--client-id", "stand-1",
        "--rmonitor-file", str(feed), "--p3", f"tcp://127.0.0.1:{port}",
        "--queue", str(queue), "--retry-max", "0.2",
    ]  # fmt: skip
    third = len(LINES) // 3
    uploaded = lambda source: len(server.records("7", source))  # noqa: E731

    relay = await start_relay(args, output)
    append(feed, wire_lines(LINES[:third]))
    await wait_until(lambda: running(relay) and uploaded("rmonitor-file") == third, timeout=20)
    await wait_until(lambda: running(relay) and uploaded("p3") == len(frames), timeout=20)

    server.stop()  # outage: the relay keeps reading and queueing
    append(feed, wire_lines(LINES[third : 2 * third]))
    await wait_until(lambda: running(relay) and count(queue, "rmonitor-file") == 2 * third)
    relay.kill()  # SIGKILL, with a third of the feed queued and not sent
    assert await relay.wait() == -signal.SIGKILL

    append(feed, wire_lines(LINES[2 * third :]))  # the feed goes on while the relay is down
    relay = await start_relay(args, output)
    await wait_until(lambda: running(relay) and count(queue, "rmonitor-file") == len(LINES))
    other = await start_relay(args, output)  # a second relay on the same queue is refused
    assert await other.wait() == 1
    server.start()
    await wait_until(lambda: running(relay) and uploaded("rmonitor-file") == len(LINES), timeout=20)

    relay.send_signal(signal.SIGTERM)
    assert await relay.wait() == 0  # a clean stop
    await decoder.stop()

    records = server.records("7", "rmonitor-file")
    assert [r["seq"] for r in records] == list(range(1, len(LINES) + 1))
    assert [r["data"] for r in records] == texts(LINES)
    assert [r["data"] for r in server.records("7", "p3")] == P3_CAPTURE.read_text().split()
    assert {r["type"] for r in records} == {"rmonitor"}
    text = output.read_text()
    assert "in use by another relay" in text
    assert SECRET not in text
