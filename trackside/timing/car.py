"""One car's scoring state within a session."""

from __future__ import annotations

from dataclasses import dataclass, field

from trackside.timing.laps import Lap


@dataclass(slots=True)
class Car:
    """What the timing system has told us about one registration number in one session.

    The feed's own order (``$G``/``$H``) is kept as sent; laps come from ``$J`` passings and are
    kept across scoreboard resets, so a reset never blanks last lap times.
    """

    registration: str
    number: str = ""
    transponder: str | None = None
    first_name: str = ""
    last_name: str = ""
    nationality: str = ""
    additional: str = ""
    class_id: int | None = None
    # On the scoreboard since the last reset (``$I``)?
    listed: bool = True
    # Race order (``$G``), as sent, with the sequence number of the update for tie-breaks.
    race_position: int | None = None
    race_laps: int | None = None
    total_time_ms: int | None = None
    race_seq: int = 0
    # Practice order (``$H``).
    practice_position: int | None = None
    practice_best_lap: int | None = None
    practice_best_ms: int | None = None
    practice_seen: bool = False
    practice_seq: int = 0
    # An $H came in this session (kept across resets): its best lap beats our passings.
    feed_best: bool = False
    # Left out of the run's latest entry-list refresh: deleted at the timing stand.
    deleted: bool = False
    # Laps from passings.
    laps: list[Lap] = field(default_factory=list)
    start_crossing_ms: int | None = None  # race time of the first (start-line) crossing
    last_crossing_ms: int | None = None
    best_lap_ms: int | None = None
    best_lap: int | None = None
    # Grid.
    starting_position: int | None = None
    started: bool = False  # crossed the line at least once: the starting position is final
    # $COR: the (laps, total) the correction replaced, and the correction itself.
    corrected_from: tuple[int | None, int | None] | None = None
    correction_ms: int = 0
    # Last shown gaps by (figure, the car it is measured to), kept when an out-of-step update
    # would make them negative.
    shown: dict[tuple[str, str], tuple[int | None, int]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        first, last = self.first_name.strip(), self.last_name.strip()
        return f"{first} {last}" if first and last else first or last

    @property
    def last_lap(self) -> Lap | None:
        return self.laps[-1] if self.laps else None

    @property
    def lap_count(self) -> int:
        """Laps completed: the feed's count when it sent one, else the passings counted."""
        if self.race_laps is not None:
            return self.race_laps
        return self.laps[-1].number if self.laps else 0

    def recompute_best(self) -> None:
        best: Lap | None = None
        for lap in self.laps:
            if lap.lap_time_ms > 0 and (best is None or lap.lap_time_ms < best.lap_time_ms):
                best = lap
        self.best_lap_ms = best.lap_time_ms if best else None
        self.best_lap = best.number if best else None
