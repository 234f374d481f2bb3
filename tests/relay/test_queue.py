"""The on-disk queue: numbering, cursor, acknowledgement, and surviving SIGKILL mid-write."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.relay.helpers import queued
from trackside.relay.queue import QueueError, RelayQueue


def test_records_are_numbered_per_source_and_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "q" / "queue.sqlite"
    q = RelayQueue(path)
    q.register("rmonitor", "rmonitor")
    q.register("p3", "p3")
    assert q.append("rmonitor", 1000, ["$F,1", "$F,2"]) == 2
    assert q.append("p3", 1001, ["8e8f"]) == 1
    assert q.append("rmonitor", 1002, ["$F,3"], cursor="c3") == 3
    q.close()

    q = RelayQueue(path)
    state = q.register("rmonitor", "rmonitor")
    assert (state.last_seq, state.acked_seq, state.cursor) == (3, 0, "c3")
    assert [(r.seq, r.received_at, r.data) for r in q.batch("rmonitor", 1, 10)] == [
        (2, 1000, "$F,2"),
        (3, 1002, "$F,3"),
    ]
    assert [r.data for r in q.batch("rmonitor", 0, 2)] == ["$F,1", "$F,2"]
    assert q.append("rmonitor", 1003, ["$F,4"]) == 4  # continues, never reuses a number
    q.close()
    assert queued(path, "rmonitor") == ["$F,1", "$F,2", "$F,3", "$F,4"]
    assert queued(path, "p3") == ["8e8f"]


def test_wal_with_full_sync(tmp_path: Path) -> None:
    q = RelayQueue(tmp_path / "queue.sqlite")
    assert q._db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert q._db.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL
    q.close()


def test_cursor_is_kept_when_an_append_carries_none(tmp_path: Path) -> None:
    q = RelayQueue(tmp_path / "queue.sqlite")
    q.register("f", "rmonitor")
    q.append("f", 1, ["a"], cursor="after-a")
    q.append("f", 2, ["b"])
    assert q.state("f").cursor == "after-a"  # type: ignore[union-attr]
    q.close()


def test_a_second_relay_on_the_same_queue_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "queue.sqlite"
    first = RelayQueue(path)
    with pytest.raises(QueueError, match="in use by another relay"):
        RelayQueue(path)
    first.close()
    RelayQueue(path).close()  # free again once the first is closed


def test_a_queue_that_cannot_be_opened_says_so(tmp_path: Path) -> None:
    (tmp_path / "queue.sqlite").mkdir()
    with pytest.raises(QueueError, match="cannot open the queue"):
        RelayQueue(tmp_path / "queue.sqlite")
    (tmp_path / "file").write_text("")
    with pytest.raises(QueueError, match="cannot open the queue"):
        RelayQueue(tmp_path / "file" / "queue.sqlite")


def test_a_source_keeps_its_kind(tmp_path: Path) -> None:
    q = RelayQueue(tmp_path / "queue.sqlite")
    q.register("feed", "rmonitor")
    with pytest.raises(QueueError, match="holds rmonitor records"):
        q.register("feed", "p3")
    with pytest.raises(QueueError, match="unknown source"):
        q.append("nope", 1, ["x"])
    q.close()


def test_acknowledgement_is_stored_and_may_go_down(tmp_path: Path) -> None:
    q = RelayQueue(tmp_path / "queue.sqlite")
    q.register("s", "rmonitor")
    q.append("s", 1, ["a", "b", "c"])
    q.mark_acked("s", 3)
    q.mark_acked("s", 1)  # the server lost data: it acknowledges less
    assert q.state("s").acked_seq == 1  # type: ignore[union-attr]
    assert [r.seq for r in q.batch("s", 1, 10)] == [2, 3]  # so all after it is sent again
    q.close()


def test_rebase_moves_unacknowledged_records_after_the_servers_seq(tmp_path: Path) -> None:
    q = RelayQueue(tmp_path / "queue.sqlite")
    q.register("s", "rmonitor")
    q.append("s", 1, ["a", "b", "c", "d"])
    q.mark_acked("s", 2)
    assert q.rebase("s", 3) == 0  # the server is not ahead of the queue: nothing to do
    assert q.rebase("s", 50) == 2
    state = q.state("s")
    assert state is not None and (state.last_seq, state.acked_seq) == (52, 50)
    assert [(r.seq, r.data) for r in q.batch("s", 0, 10)] == [
        (1, "a"),
        (2, "b"),
        (51, "c"),
        (52, "d"),
    ]
    assert q.append("s", 2, ["e"]) == 53
    q.close()


# A writer that numbers lines "line-<seq>" and stores the count as its cursor, in batches of
# 1-7 records per transaction, reporting each commit on stdout until it is killed.
WRITER = """
import sys
from trackside.relay.queue import RelayQueue
q = RelayQueue(sys.argv[1])
last = q.register("feed", "rmonitor").last_seq
sizes = [1, 3, 7, 2, 5]
i = 0
while True:
    n = sizes[i % len(sizes)]
    i += 1
    items = [f"line-{last + k + 1}" + "x" * 200 for k in range(n)]
    last = q.append("feed", 1700000000000 + last, items, cursor=str(last + n))
    print(last, flush=True)
"""


@pytest.mark.parametrize("kill_after", [1, 40, 400])
def test_sigkill_mid_write_loses_and_duplicates_nothing(tmp_path: Path, kill_after: int) -> None:
    path = tmp_path / "queue.sqlite"
    reported = 0
    for _round in range(3):
        child = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path)], cwd=REPO, stdout=subprocess.PIPE, text=True
        )
        assert child.stdout is not None
        seen = 0
        while seen < kill_after:  # let it commit kill_after times, then kill it mid-stream
            line = child.stdout.readline()
            assert line, "the writer died by itself"
            seen += 1
            reported = int(line)
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        child.stdout.close()

        q = RelayQueue(path)  # reopening recovers the WAL
        state = q.state("feed")
        assert state is not None
        assert state.last_seq >= reported  # every commit it reported is there
        assert state.cursor == str(state.last_seq)  # cursor and records moved together
        q.close()
        data = queued(path, "feed")  # seqs run 1..last with no gap or repeat
        assert len(data) == state.last_seq
        assert all(d == f"line-{i}" + "x" * 200 for i, d in enumerate(data, start=1))
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
