"""Laps as the timing line sees them: one per ``$J`` passing."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class Lap:
    """A completed lap: its number, its time, and the race time when it ended."""

    number: int
    lap_time_ms: int
    total_time_ms: int | None
    flag: str  # the flag showing when the lap ended
    position: int | None = None  # overall position the timing system gave at the line


# Two passings of one car closer than this are one crossing sent twice (the timing system
# re-sends a corrected time a few milliseconds off), not two laps.
SAME_CROSSING_MS = 1_000
