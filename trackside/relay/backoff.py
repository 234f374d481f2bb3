"""Exponential backoff with jitter, for reconnecting to a feed and retrying the server.

Jitter keeps several relays (or several sources of one relay) that lost the same link at the
same moment from all knocking again at the same moment.
"""

from __future__ import annotations

import random


class Backoff:
    """Delays of ``base * factor**n`` seconds, capped at ``cap``, each scaled by a random factor
    in [1 - jitter, 1] ("equal jitter": never near zero, so a dead peer is not hammered)."""

    def __init__(
        self,
        base: float = 1.0,
        cap: float = 30.0,
        factor: float = 2.0,
        jitter: float = 0.5,
        rng: random.Random | None = None,
    ) -> None:
        if not 0 < base <= cap or factor < 1 or not 0 <= jitter <= 1:
            raise ValueError("need 0 < base <= cap, factor >= 1 and 0 <= jitter <= 1")
        self.base = base
        self.cap = cap
        self.factor = factor
        self.jitter = jitter
        self._rng = rng or random.Random()
        self.attempts = 0

    def ceiling(self) -> float:
        """The delay before jitter for the next attempt."""
        # Stop growing the exponent once it passes the cap, so it never overflows.
        if self.base * self.factor ** min(self.attempts, 64) >= self.cap:
            return self.cap
        return self.base * self.factor**self.attempts

    def next(self) -> float:
        """The delay to wait now; the following one is longer, up to the cap."""
        delay = self.ceiling() * (1 - self.jitter * self._rng.random())
        self.attempts += 1
        return delay

    def reset(self) -> None:
        """After a success: the next failure starts again from ``base``."""
        self.attempts = 0
