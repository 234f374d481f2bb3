"""Rate limits behind one small interface: in-process, or shared by every node through Redis.

Both are GCRA: ``limit`` requests per ``window_s``, bursts up to ``limit``; one number per key
(its theoretical arrival time). In memory the keys live in an LRU of bounded size, so a flood
of new keys (one per client address) costs O(1) per request and never grows without bound. In
Redis one Lua script does the same atomically, on Redis' clock, with the key expiring when
its limit no longer matters; several nodes behind a load balancer then share each limit.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger("trackside.ratelimit")


class RateLimiter(Protocol):
    async def hit(self, key: str, limit: int, window_s: float) -> float | None:
        """Count one request; return None if allowed, else seconds until one would be."""
        ...

    async def close(self) -> None: ...


class InMemoryRateLimiter:
    MAX_KEYS = 100_000

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, max_keys: int = MAX_KEYS
    ) -> None:
        self._clock = clock
        self._max_keys = max_keys
        self._tat: OrderedDict[str, float] = OrderedDict()  # least recently hit first

    async def hit(self, key: str, limit: int, window_s: float) -> float | None:
        now = self._clock()
        interval = window_s / limit
        tat = max(self._tat.get(key, now), now)
        allowed_at = tat + interval - window_s
        if now < allowed_at:
            return allowed_at - now
        self._tat[key] = tat + interval
        self._tat.move_to_end(key)
        while len(self._tat) > self._max_keys:
            # The least recently hit key: the one whose limit has most likely lapsed. Dropping
            # one still limited only forgives that key early; memory stays bounded either way.
            self._tat.popitem(last=False)
        return None

    def __len__(self) -> int:
        return len(self._tat)

    async def close(self) -> None:
        self._tat.clear()


# KEYS[1]: the key; ARGV: interval, window (seconds). Returns nil if allowed, else the wait.
_GCRA = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1000000
local interval = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local allowed_at = tat + interval - window
if now < allowed_at then return tostring(allowed_at - now) end
local new_tat = tat + interval
redis.call('SET', KEYS[1], tostring(new_tat), 'PX', math.ceil((new_tat - now) * 1000) + 1)
return false
"""


class RedisRateLimiter:
    """Limits shared across nodes. If Redis cannot answer, the node limits on its own rather
    than letting every request through or refusing every one (ingest never waits on Redis):
    it says so once, leaves Redis alone for ``retry_s``, then tries it again, and says when
    the shared limits are back."""

    PREFIX = "trackside:ratelimit:"
    RETRY_S = 5.0  # how long to limit on this node before asking a Redis that failed again
    TIMEOUT_S = 1.0  # a Redis that hangs must not hold requests

    def __init__(self, client: Redis, retry_s: float = RETRY_S) -> None:
        self._client = client
        self._script = client.register_script(_GCRA)
        self._fallback = InMemoryRateLimiter()
        self._retry_s = retry_s
        self._down_until: float | None = None  # monotonic; None while Redis answers

    @classmethod
    def from_url(cls, url: str, retry_s: float = RETRY_S) -> RedisRateLimiter:
        client = Redis.from_url(
            url, socket_connect_timeout=cls.TIMEOUT_S, socket_timeout=cls.TIMEOUT_S
        )
        return cls(client, retry_s)

    @property
    def shared(self) -> bool:
        """Whether limits are counted in Redis right now (not on this node alone)."""
        return self._down_until is None

    async def hit(self, key: str, limit: int, window_s: float) -> float | None:
        if self._down_until is not None and time.monotonic() < self._down_until:
            return await self._fallback.hit(key, limit, window_s)
        try:
            wait = await self._script(keys=[self.PREFIX + key], args=[window_s / limit, window_s])
        except (RedisError, OSError) as exc:
            if self._down_until is None:
                log.warning("rate limits in Redis failed (%s); limiting on this node", exc)
            self._down_until = time.monotonic() + self._retry_s
            return await self._fallback.hit(key, limit, window_s)
        if self._down_until is not None:
            log.warning("rate limits in Redis answer again; shared across nodes")
            self._down_until = None
        return None if wait is None else float(wait)

    async def close(self) -> None:
        await self._client.aclose()
