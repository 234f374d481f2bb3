"""The live invariant on real captures: snapshot(v0) + patches 1..n == snapshot(vn)."""

from __future__ import annotations

import orjson
import pytest

from tests.conftest import capture
from tests.live.feeding import Feed, as_json, capture_records
from trackside.feeds.records import Heartbeat
from trackside.live.patch import apply_patch
from trackside.live.snapshot import build_snapshot

RACE_DAY = [
    "road-america-2025-04-26-entries.log",
    "road-america-2025-04-26-grid.log",
    "road-america-2025-04-26-race-start.log",
]
# (files, records per update): record by record where the capture is small enough.
CASES = [
    (RACE_DAY, 1),
    (["road-america-2025-04-26-lap1-reset.log"], 1),
    (["road-america-2025-04-26-midrace-reset.log"], 1),
    (["barber-2025-03-01-finish.log"], 1),
    (["barber-2025-03-01-finish-clock-stopped.log"], 3),
    (["class-change-2025-10-17.log"], 1),
    (["road-america-2025-04-25-full-day.log"], 40),
]


def _replay_patches(feed: Feed, start: dict, first: int = 0) -> dict:
    snapshot = start
    for message in feed.patches[first:]:
        snapshot = apply_patch(snapshot, orjson.loads(message.data))
    return snapshot


@pytest.mark.parametrize(("names", "batch"), CASES, ids=[f"{c[0][-1][:30]}/{c[1]}" for c in CASES])
def test_snapshot_plus_patches_is_the_latest_snapshot(names: list[str], batch: int) -> None:
    records = capture_records(*(capture(name) for name in names))
    feed = Feed()
    half = len(records) // 2
    feed.run(records[:half], batch)
    # A subscriber who joins halfway gets that version's snapshot, then the later patches.
    joined = orjson.loads(feed.live.snapshot_message().data)["data"]
    joined_at = len(feed.patches)
    feed.run(records[half:], batch)

    assert feed.patches, "a capture moves the standings"
    assert [m.version for m in feed.patches] == list(range(1, len(feed.patches) + 1))
    latest = as_json(feed.live.snapshot)
    assert _replay_patches(feed, feed.first_snapshot) == latest
    assert _replay_patches(feed, joined, joined_at) == latest
    # The builder's re-use of finished sessions changes nothing.
    assert as_json({"version": feed.live.version, **build_snapshot(feed.engine)}) == latest


def test_patches_carry_only_what_changed() -> None:
    """On a race start most updates touch a car or two: far smaller than a snapshot."""
    feed = Feed()
    heartbeat_ops: list[dict] = []
    for record in capture_records(*(capture(name) for name in RACE_DAY)):
        message = feed.apply([record])
        if message is not None and isinstance(record, Heartbeat):
            heartbeat_ops.extend(orjson.loads(message.data)["ops"])
    sizes = sorted(len(m.data) for m in feed.patches)
    snapshot_size = len(feed.live.snapshot_message().data)
    assert snapshot_size > 30_000
    assert sizes[len(sizes) // 2] < 400
    assert sizes[-1] < snapshot_size
    # A heartbeat moves the clocks (and the flag, its periods, stale marks): never the names.
    assert heartbeat_ops
    session_keys = set().union(*(op["set"] for op in heartbeat_ops if op["op"] == "set"))
    assert session_keys <= {"time_to_go_ms", "time_of_day_ms", "race_time_ms", "flag"}
    car_keys = set().union(
        *(fields for op in heartbeat_ops if op["op"] == "cars" for fields in op["set"].values())
    )
    assert car_keys <= {"stale"}
