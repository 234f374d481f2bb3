"""The in-memory limiter: N per window, bursts allowed, a wait that says how long."""

from __future__ import annotations

from trackside.accounts.ratelimit import InMemoryRateLimiter


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


async def test_idle_keys_are_forgotten() -> None:
    clock = Clock()
    limiter = InMemoryRateLimiter(clock)
    limiter.MAX_KEYS = 3
    for key in "abcd":
        await limiter.hit(key, 1, 1)
    clock.now += 5
    await limiter.hit("e", 1, 1)
    assert len(limiter._tat) <= 2
