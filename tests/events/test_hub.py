"""The hub's bookkeeping without sockets: negotiated ids, the outbox, the race day."""

from __future__ import annotations

from datetime import UTC, date, datetime

import orjson
import pytest

from trackside.errors import Conflict, NotFound
from trackside.events.hub import Follower, Negotiations, race_day
from trackside.live import signalr


class Clock:
    """Milliseconds that move only when the test says so."""

    def __init__(self) -> None:
        self.now = 0

    def __call__(self) -> int:
        return self.now


def _socket_id(body: bytes) -> str:
    answer = orjson.loads(body)
    return answer.get("connectionToken") or answer["connectionId"]


def test_a_negotiated_id_takes_one_socket() -> None:
    negotiations = Negotiations(clock=Clock())
    v1 = _socket_id(negotiations.negotiate(1))
    v0 = orjson.loads(negotiations.negotiate(0))
    assert "connectionToken" not in v0
    negotiations.claim(v1)
    negotiations.claim(v0["connectionId"])  # v0 sockets carry the connectionId
    with pytest.raises(Conflict):
        negotiations.claim(v1)
    negotiations.release(v1)
    with pytest.raises(NotFound):
        negotiations.claim(v1)  # a connection that ended is gone: negotiate again
    with pytest.raises(NotFound):
        negotiations.claim("never-negotiated")


def test_unused_negotiations_expire_and_are_bounded() -> None:
    clock = Clock()
    negotiations = Negotiations(ttl_ms=1_000, limit=3, clock=clock)
    old = _socket_id(negotiations.negotiate(1))
    clock.now = 1_000
    with pytest.raises(NotFound):
        negotiations.claim(old)
    ids = [_socket_id(negotiations.negotiate(1)) for _ in range(4)]
    with pytest.raises(NotFound):
        negotiations.claim(ids[0])  # the oldest made room
    for socket_id in ids[1:]:
        negotiations.claim(socket_id)


async def test_outbox_order_close_and_timeout() -> None:
    follower = Follower()
    assert await follower.next(0.01) is None  # nothing to send: the writer pings
    follower.deliver("p1")
    follower.send("c1")
    assert [await follower.next(1), await follower.next(1)] == [("p1", False), ("c1", False)]
    follower.deliver("p2")
    follower.close(signalr.close("bye"))
    follower.deliver("p3")  # after the close: dropped
    assert await follower.next(1) == (signalr.close("bye"), True)  # what was queued is dropped
    assert follower.queued == 0


async def test_a_follower_too_far_behind_gets_fresh_full_payloads() -> None:
    follower = Follower(limit=3)
    follower.send("completion")
    for n in range(3):
        follower.deliver(f"incremental {n}")
    follower.deliver("incremental 3")  # one too many: follows no feed, so nothing replaces them
    assert follower.queued == 1
    assert await follower.next(1) == ("completion", False)


def test_race_day_is_today_within_the_event() -> None:
    start = datetime(2025, 6, 1, 9, tzinfo=UTC)
    end = datetime(2025, 6, 3, 18, tzinfo=UTC)
    assert race_day(start, end, date(2025, 6, 2)) == date(2025, 6, 2)
    assert race_day(start, end, date(2025, 5, 1)) == date(2025, 6, 1)
    assert race_day(start, end, date(2026, 1, 1)) == date(2025, 6, 3)
