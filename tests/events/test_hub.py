"""The hub's bookkeeping without sockets: negotiated ids (signed tokens any node on the
database accepts), the outbox, the race day."""

from __future__ import annotations

from datetime import UTC, date, datetime

import orjson
import pytest

from trackside.accounts.keys import KeyRing
from trackside.errors import Conflict, NotFound
from trackside.events.hub import Follower, Negotiations, race_day
from trackside.live import signalr
from trackside.platform import Platform


class Clock:
    """Unix milliseconds that move only when the test says so."""

    def __init__(self) -> None:
        self.now = 1_800_000_000_000

    def __call__(self) -> int:
        return self.now


def _socket_id(body: bytes) -> str:
    answer = orjson.loads(body)
    return answer.get("connectionToken") or answer["connectionId"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_negotiated_id_takes_one_socket(platform: Platform) -> None:
    negotiations = Negotiations(platform.keys, clock=Clock())
    v1 = _socket_id(negotiations.negotiate(1))
    v0 = orjson.loads(negotiations.negotiate(0))
    assert "connectionToken" not in v0
    await negotiations.claim(v1)
    await negotiations.claim(v0["connectionId"])  # v0 sockets carry the connectionId
    with pytest.raises(Conflict):
        await negotiations.claim(v1)
    negotiations.release(v1)
    with pytest.raises(NotFound):
        await negotiations.claim(v1)  # a connection that ended is gone: negotiate again
    for made_up in ("never-negotiated", "", v1.replace(".", "-"), "a.b.c.d"):
        with pytest.raises(NotFound):
            await negotiations.claim(made_up)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_any_node_on_the_database_takes_a_token_another_made(platform: Platform) -> None:
    """Two key rings read from one database stand for two nodes: negotiate on A, socket on B.
    Nothing but the token passes between them."""
    clock = Clock()
    node_a = Negotiations(platform.keys, ttl_ms=1_000, clock=clock)
    ring_b = KeyRing(platform.db_factory)
    await ring_b.load()
    node_b = Negotiations(ring_b, ttl_ms=1_000, clock=clock)
    body = orjson.loads(node_a.negotiate(1))
    token, public_id = body["connectionToken"], body["connectionId"]
    with pytest.raises(NotFound):
        await node_b.claim(public_id)  # the public id of a v1 answer opens nothing
    kid, nonce, expires, mac = token.split(".")
    forged = [
        f"{kid}.{nonce}.{int(expires) + 3600}.{mac}",  # a later expiry the key never signed
        f"{kid}.{nonce[::-1]}.{expires}.{mac}",
        f"{kid}.{nonce}.{expires}.{mac[::-1]}",
        f"unknown-kid.{nonce}.{expires}.{mac}",
    ]
    for socket_id in forged:
        with pytest.raises(NotFound):
            await node_b.claim(socket_id)
    await node_b.claim(token)
    await node_a.claim(token)  # A never saw it used: the id is no credential (hub.py)
    late = _socket_id(node_a.negotiate(0))
    clock.now += 1_000
    for node in (node_a, node_b):
        with pytest.raises(NotFound):
            await node.claim(late)  # expired, whichever node it reaches


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_served_ids_are_forgotten_once_expired(platform: Platform) -> None:
    """A node remembers the ids it served only until their tokens expire: memory stays bounded
    by the sockets of one TTL, and negotiating stores nothing."""
    clock = Clock()
    negotiations = Negotiations(platform.keys, ttl_ms=1_000, clock=clock)
    ids = [_socket_id(negotiations.negotiate(1)) for _ in range(100)]
    assert negotiations._served == {}
    for socket_id in ids:
        await negotiations.claim(socket_id)
        negotiations.release(socket_id)
    assert len(negotiations._served) == 100
    clock.now += 1_000
    with pytest.raises(NotFound):
        await negotiations.claim(ids[0])
    assert negotiations._served == {}


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
