"""The limiters: N per window, bursts allowed, a wait that says how long; bounded in memory,
shared through a real Redis."""

from __future__ import annotations

import logging
import time
import uuid

import pytest

from tests.cluster.nodes import PrivateRedis
from trackside.accounts.ratelimit import InMemoryRateLimiter, RedisRateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_limit_per_window_then_refill() -> None:
    clock = Clock()
    limiter = InMemoryRateLimiter(clock)
    results = [await limiter.hit("k", 3, 60) for _ in range(4)]
    assert results[:3] == [None, None, None]
    assert results[3] == 20.0  # one slot comes back every 60/3 s
    clock.now += 19.9
    assert await limiter.hit("k", 3, 60) is not None
    clock.now += 0.1
    assert await limiter.hit("k", 3, 60) is None
    assert await limiter.hit("k", 3, 60) is not None


async def test_keys_are_separate_and_refusals_do_not_count() -> None:
    clock = Clock()
    limiter = InMemoryRateLimiter(clock)
    for _ in range(2):
        assert await limiter.hit("a", 2, 10) is None
    for _ in range(5):
        assert await limiter.hit("a", 2, 10) == 5.0
    assert await limiter.hit("b", 2, 10) is None
    clock.now += 10
    assert [await limiter.hit("a", 2, 10) for _ in range(3)][:2] == [None, None]


async def test_keys_stay_bounded_at_constant_cost() -> None:
    """A flood of new keys (one per address) past the cap: memory bounded, no O(n) sweep."""
    clock = Clock()
    limiter = InMemoryRateLimiter(clock)  # every key stays limited: nothing is idle
    started = time.perf_counter()
    for n in range(InMemoryRateLimiter.MAX_KEYS + 5_000):
        await limiter.hit(f"ip:{n}", 1, 3600)
    assert time.perf_counter() - started < 5.0
    assert len(limiter) == InMemoryRateLimiter.MAX_KEYS
    assert await limiter.hit(f"ip:{InMemoryRateLimiter.MAX_KEYS}", 1, 3600) is not None


async def test_the_least_recently_hit_key_goes_first() -> None:
    limiter = InMemoryRateLimiter(Clock(), max_keys=3)
    for key in "abc":
        await limiter.hit(key, 1, 60)
    assert await limiter.hit("a", 1, 60) is not None  # a refusal does not refresh the key
    await limiter.hit("b", 2, 60)  # b is hit again: a is now the oldest
    await limiter.hit("d", 1, 60)
    assert len(limiter) == 3
    assert await limiter.hit("a", 1, 60) is None  # forgotten
    assert await limiter.hit("c", 1, 60) is not None


async def test_redis_limits_are_one_limit_for_every_node(redis_url: str) -> None:
    first, second = RedisRateLimiter.from_url(redis_url), RedisRateLimiter.from_url(redis_url)
    key = f"test:{uuid.uuid4().hex}"
    try:
        assert [await node.hit(key, 3, 60) for node in (first, second, first)] == [None] * 3
        wait = await second.hit(key, 3, 60)
        assert wait is not None and 19.0 < wait <= 20.0
        assert await first.hit(f"{key}:other", 3, 60) is None
    finally:
        await first.close()
        await second.close()


async def test_with_redis_down_each_node_limits_alone_and_says_so_once(
    private_redis: PrivateRedis, caplog: pytest.LogCaptureFixture
) -> None:
    """Ingest never depends on Redis: a dead Redis neither fails requests nor lifts limits."""
    limiter = RedisRateLimiter.from_url(private_redis.url, retry_s=0.2)
    key = f"test:{uuid.uuid4().hex}"
    try:
        assert await limiter.hit(key, 3, 60) is None and limiter.shared
        private_redis.stop()
        with caplog.at_level(logging.WARNING, "trackside.ratelimit"):
            assert [await limiter.hit(key, 3, 60) for _ in range(3)] == [None] * 3
            assert await limiter.hit(key, 3, 60) is not None  # still limited, on this node
            assert not limiter.shared
            deadline = time.monotonic() + 0.3
            while time.monotonic() < deadline:  # Redis is asked again now and then, in vain
                assert await limiter.hit(f"{key}:{uuid.uuid4().hex}", 3, 60) is None
            private_redis.start()
            while not limiter.shared:
                assert await limiter.hit(f"{key}:{uuid.uuid4().hex}", 3, 60) is None
        said = [record.getMessage() for record in caplog.records]
        assert len([text for text in said if "limiting on this node" in text]) == 1, said
        assert len([text for text in said if "answer again" in text]) == 1, said
    finally:
        await limiter.close()
