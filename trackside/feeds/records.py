"""Typed records the feeds produce and the timing engine consumes.

One dataclass per RMonitor record kind, named for what it means at the track. Times are integer
milliseconds (``None`` = the feed said "no time"); nothing is kept as a clock string. Records are
treated as immutable once built.
"""

from __future__ import annotations

from dataclasses import dataclass

# Flags as trackside names them on every wire: lower-case words.
GREEN = "green"
YELLOW = "yellow"
RED = "red"
WHITE = "white"
FINISH = "finish"
NO_FLAG = "none"
FLAGS = (GREEN, YELLOW, RED, WHITE, FINISH, NO_FLAG)


@dataclass(slots=True)
class Heartbeat:
    """``$F``: the once-a-second clock and flag of the running session."""

    laps_to_go: int | None  # None = unlimited (the feed's 9999)
    time_to_go_ms: int
    time_of_day_ms: int
    race_time_ms: int | None  # None before green on feeds that send the 00:59:59 sentinel
    flag: str


@dataclass(slots=True)
class Competitor:
    """``$A`` or ``$COMP``: who a registration number is. ``None`` = not in this layout."""

    registration: str
    number: str
    transponder: str | None
    first_name: str
    last_name: str
    nationality: str
    class_id: int | None
    additional: str | None
    layout: str  # "A" or "COMP"


@dataclass(slots=True)
class Run:
    """``$B``: the session (run) the timing system is scoring. Number 95 means none."""

    number: int
    description: str


NO_RUN = 95


@dataclass(slots=True)
class RaceClass:
    """``$C``: a class number's name, valid within the current run."""

    class_id: int
    description: str


@dataclass(slots=True)
class Setting:
    """``$E``: a track setting, ``TRACKNAME`` or ``TRACKLENGTH``."""

    name: str
    value: str


@dataclass(slots=True)
class RaceOrder:
    """``$G``: a car's position in race order, its laps and race time at its last crossing."""

    position: int
    registration: str
    laps: int | None  # None on the grid and after the start-line crossing
    total_time_ms: int | None


@dataclass(slots=True)
class PracticeOrder:
    """``$H``: a car's position by best lap, the lap it was set on, and its time."""

    position: int
    registration: str
    best_lap: int | None  # lap number of the best lap; None = none yet
    best_lap_time_ms: int | None


@dataclass(slots=True)
class Init:
    """``$I``: clear the scoreboard; a refresh of the current state follows."""

    time_of_day_ms: int | None
    date: str


@dataclass(slots=True)
class Passing:
    """``$J``: a car crossed the finish line; the only true lap event of RMonitor."""

    registration: str
    lap_time_ms: int | None  # None on the first (start-line) crossing
    total_time_ms: int | None


@dataclass(slots=True)
class Correction:
    """``$COR``: a corrected total time for a car, with the signed correction applied."""

    registration: str
    number: str
    laps: int | None
    corrected_total_ms: int | None
    correction_ms: int


@dataclass(slots=True)
class LineCrossing:
    """IMSA ``$L``: a car crossed a named timing line (track, pit, sector)."""

    car: str
    line_id: str
    line_name: str
    date: str
    time_of_day_ms: int
    driver_id: int | None
    class_name: str | None


@dataclass(slots=True)
class TrackSection:
    """One section of an IMSA ``$T`` track description (length in inches)."""

    name: str
    start_line: str
    end_line: str
    length_in: int


@dataclass(slots=True)
class TrackDescription:
    """IMSA ``$T``: the track and its timed sections."""

    name: str
    short_name: str
    distance: str
    sections: tuple[TrackSection, ...]


@dataclass(slots=True)
class LapInfo:
    """Orbits ``$SR`` (race order) / ``$SP`` (practice order): a lap time and its speed."""

    order: str  # "race" or "practice"
    position: int
    registration: str
    lap: int | None
    lap_time_ms: int | None
    speed: int | None


@dataclass(slots=True)
class RelayInfo:
    """Race Monitor relay additions (``$RMS $RMLT $RMDTL $RMCA $RMHL $RMRDQ``): kept, not scored."""

    command: str
    fields: tuple[str, ...]


@dataclass(slots=True)
class UnknownRecord:
    """A well-formed record of a command trackside does not know; kept with its raw text."""

    command: str
    raw: str


@dataclass(slots=True)
class FeedError:
    """A line that could not be read: kept with its raw text and the reason, never raised."""

    raw: str
    reason: str


@dataclass(slots=True)
class CaptureBlock:
    """A block of a capture file that is not RMonitor (another source's data), kept as it was."""

    kind: str
    text: str


RMonitorRecord = (
    Heartbeat
    | Competitor
    | Run
    | RaceClass
    | Setting
    | RaceOrder
    | PracticeOrder
    | Init
    | Passing
    | Correction
    | LineCrossing
    | TrackDescription
    | LapInfo
    | RelayInfo
    | UnknownRecord
    | FeedError
)
Record = RMonitorRecord | CaptureBlock


@dataclass(slots=True)
class Received:
    """A record with when it was received (epoch ms UTC, from the relay or capture) if known."""

    received_at_ms: int | None
    record: Record
