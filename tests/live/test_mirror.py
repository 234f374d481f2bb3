"""A follower's mirror of the leader's live state: the leader's snapshot, then its patches, on a
real capture; anything it cannot follow makes it stale until a snapshot comes."""

from __future__ import annotations

from tests.conftest import RMONITOR
from tests.live.feeding import Feed, capture_records
from trackside.live.envelope import frame, frame_end, frame_snapshot, unframe
from trackside.live.mirror import LiveMirror
from trackside.live.patch import LiveState


def _leader_messages(epoch: int) -> tuple[LiveState, list[bytes]]:
    records = capture_records(RMONITOR / "barber-2025-03-01-finish.log")
    feed = Feed()
    feed.live = LiveState(feed.builder.build(), epoch=epoch)
    framed = [frame_snapshot(feed.live.snapshot_message())]
    for start in range(0, len(records), 25):
        message = feed.apply(records[start : start + 25])
        if message is not None:
            framed.append(frame(message))
    return feed.live, framed


def test_a_mirror_follows_the_leader_to_the_same_snapshot() -> None:
    state, framed = _leader_messages(epoch=41)
    mirror = LiveMirror()
    assert mirror.stale
    for data in framed:
        assert mirror.take(unframe(data))
    assert not mirror.stale
    assert (mirror.epoch, mirror.version) == (41, state.version)
    assert mirror.snapshot == state.snapshot
    assert mirror.snapshot_message().data == state.snapshot_message().data


def test_a_gap_makes_it_stale_until_a_snapshot() -> None:
    state, framed = _leader_messages(epoch=5)
    mirror = LiveMirror()
    mirror.take(unframe(framed[0]))
    assert not mirror.take(unframe(framed[2]))  # patch 2 without patch 1
    assert mirror.stale
    mirror.load(state.snapshot_message().data)
    assert not mirror.stale and mirror.snapshot == state.snapshot
    assert mirror.take(unframe(frame_end(5)))  # the end of the epoch changes nothing


def test_another_epochs_patch_without_its_snapshot_is_not_applied() -> None:
    _, first = _leader_messages(epoch=1)
    _, second = _leader_messages(epoch=2)
    mirror = LiveMirror()
    for data in first:
        mirror.take(unframe(data))
    assert not mirror.take(unframe(second[1]))
    assert mirror.stale
    assert mirror.take(unframe(second[0]))  # the new epoch's snapshot
    assert mirror.epoch == 2 and not mirror.stale
