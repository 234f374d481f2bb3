"""Rate limits behind one small interface; in-process now, shared (Redis) later.

The in-memory limiter is GCRA: ``limit`` requests per ``window_s``, bursts up to ``limit``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol


class RateLimiter(Protocol):
    async def hit(self, key: str, limit: int, window_s: float) -> float | None:
        """Count one request; return None if allowed, else seconds until one would be."""
        ...


class InMemoryRateLimiter:
    MAX_KEYS = 100_000

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._tat: dict[str, float] = {}  # theoretical arrival time per key

    async def hit(self, key: str, limit: int, window_s: float) -> float | None:
        now = self._clock()
        interval = window_s / limit
        tat = max(self._tat.get(key, now), now)
        allowed_at = tat + interval - window_s
        if now < allowed_at:
            return allowed_at - now
        self._tat[key] = tat + interval
        if len(self._tat) > self.MAX_KEYS:
            self._forget_idle(now)
        return None

    def _forget_idle(self, now: float) -> None:
        self._tat = {key: tat for key, tat in self._tat.items() if tat > now}
