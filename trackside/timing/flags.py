"""Flag periods: every change of flag opens a period and closes the one before."""

from __future__ import annotations

from dataclasses import dataclass

from trackside.feeds.records import FINISH, GREEN, RED, WHITE, YELLOW

# Flags under which cars are circulating and expected to cross the line each lap.
RACING_FLAGS = frozenset({GREEN, YELLOW, WHITE, FINISH})
# How far back a heartbeat's race time may step before it is a new clock, not a late packet:
# relays log heartbeats out of order by a few seconds.
LATE_HEARTBEAT_MS = 60_000

__all__ = ["LATE_HEARTBEAT_MS", "RACING_FLAGS", "RED", "FlagPeriod"]


@dataclass(slots=True)
class FlagPeriod:
    """A stretch of one flag, in race time and time of day (the timing PC's local clock)."""

    flag: str
    start_ms: int
    end_ms: int | None = None
    start_time_of_day_ms: int | None = None
    end_time_of_day_ms: int | None = None

    @property
    def duration_ms(self) -> int | None:
        return None if self.end_ms is None else self.end_ms - self.start_ms
