"""RMonitor lines as Orbits writes them (../shared/reference/rmonitor-protocol.md §3)."""

from __future__ import annotations

from trackside.feeds.clock import format_clock
from trackside.sim.field import ClassSpec, Entry

UNLIMITED_LAPS = 9999
NO_RUN = 95
# Flags are six characters, space padded; blank means no flag state.
FLAG_TEXT = {"none": "      ", "green": "Green ", "yellow": "Yellow", "finish": "Finish"}
NO_TIME = "00:00:00.000"
DAY_MS = 86_400_000


def result_time(ms: int | None) -> str:
    """``HH:MM:SS.fff`` (hours unbounded), or the newer feeds' no-time sentinel."""
    if ms is None:
        return NO_TIME
    return f"{format_clock(ms)}.{ms % 1000:03d}"


def init(time_of_day_ms: int, date: str) -> str:
    return f'$I,"{result_time(time_of_day_ms % DAY_MS)}","{date}"'


def run(number: int, name: str) -> str:
    return f'$B,{number},"{name}"'


def setting(name: str, value: str) -> str:
    return f'$E,"{name}","{value}"'


def race_class(spec: ClassSpec) -> str:
    return f'$C,{spec.class_id},"{spec.name}"'


def competitor(entry: Entry) -> list[str]:
    """``$A`` and ``$COMP`` as a pair: transponder only in one, additional data in the other."""
    return [
        f'$A,"{entry.registration}","{entry.number}",{entry.transponder},'
        f'"{entry.team}","{entry.drivers}","USA",{entry.class_id}',
        f'$COMP,"{entry.registration}","{entry.number}",{entry.class_id},'
        f'"{entry.team}","{entry.drivers}","USA","{entry.car_model}"',
    ]


def race_order(position: int, registration: str, laps: int, total_ms: int | None) -> str:
    """``$G``: laps stay empty on the grid and after the start-line crossing."""
    lap_field = str(laps) if laps > 0 else ""
    return f'$G,{position},"{registration}",{lap_field},"{result_time(total_ms)}"'


def practice_order(position: int, registration: str, best_lap: int, best_ms: int | None) -> str:
    return f'$H,{position},"{registration}",{best_lap},"{result_time(best_ms)}"'


def passing(registration: str, lap_ms: int | None, total_ms: int) -> str:
    """``$J``: lap time ``00:00:00.000`` on the first (start-line) crossing."""
    return f'$J,"{registration}","{result_time(lap_ms)}","{result_time(total_ms)}"'


def heartbeat(
    laps_to_go: int, time_to_go_ms: int, time_of_day_ms: int, race_time_ms: int, flag: str
) -> str:
    return (
        f'$F,{laps_to_go},"{format_clock(time_to_go_ms)}",'
        f'"{format_clock(time_of_day_ms % DAY_MS)}","{format_clock(race_time_ms)}",'
        f'"{FLAG_TEXT[flag]}"'
    )
