"""What the track-side sources add to one session's cars: loop state and race-control tallies.

RMonitor knows nothing of pit lanes or penalties; ``SessionExtras`` carries them next to a
session so results, snapshots and the live payload show them without the engine knowing.
Loop state is found by the car's number, else by its transponder while that is not mapped
(``Tx<transponder>``); penalties by the number as race control writes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from trackside.timing.car import Car
from trackside.timing.loops import UNMAPPED_PREFIX, CarLoops, SectorTime
from trackside.timing.penalties import CarPenalties
from trackside.timing.standings import penalty_key


@dataclass(slots=True, frozen=True)
class SessionExtras:
    """Loop state by entry (number or ``Tx<transponder>``), penalties by car number."""

    loops: Mapping[str, CarLoops] = field(default_factory=dict)
    penalties: Mapping[str, CarPenalties] = field(default_factory=dict)

    def car_loops(self, car: Car) -> CarLoops | None:
        if not self.loops:
            return None
        found = self.loops.get(car.number) or self.loops.get(car.registration)
        if found is None and car.transponder:
            found = self.loops.get(f"{UNMAPPED_PREFIX}{car.transponder}")
        return found

    def car_penalties(self, car: Car) -> CarPenalties | None:
        return self.penalties.get(penalty_key(car.number)) if self.penalties else None

    @property
    def penalty_laps(self) -> dict[str, int]:
        return {car: p.penalty_laps for car, p in self.penalties.items() if p.penalty_laps}


NONE = SessionExtras()


def _sectors(sectors: tuple[SectorTime, ...] | list[SectorTime]) -> list[dict[str, Any]]:
    return [{"from": s.from_loop, "to": s.to_loop, "time_ms": s.time_ms} for s in sectors]


# A car's pit and loop fields in results, in order (``loop_values``).
LOOP_FIELDS = (
    "in_pit",
    "entered_pit",
    "exited_pit",
    "pit_start_finish",
    "last_lap_pit",
    "pit_stops",
    "pit_time_ms",
    "last_pit_time_ms",
    "last_loop",
    "sectors",
    "last_lap_sectors",
)
# A car's race-control tally in results, in order (``penalty_values``).
PENALTY_FIELDS = ("warnings", "penalty_laps", "black_flags")


def loop_values(car: CarLoops | None) -> tuple[Any, ...]:
    """A car's pit and loop fields (``LOOP_FIELDS``); neutral when no loop has seen it.

    ``pit_time_ms`` adds up the stops whose pit-in and pit-out loops both saw the car;
    ``last_pit_time_ms`` is the latest such stop. ``sectors`` are the current lap's,
    ``last_lap_sectors`` those of the last lap the start/finish loops timed.
    """
    if car is None:
        return (False, False, False, False, False, 0, 0, None, "", [], [])
    last_lap = car.last_lap
    return (
        car.in_pit,
        car.entered_pit,
        car.exited_pit,
        car.pit_start_finish,
        car.lap_included_pit,
        car.pit_stop_count,
        car.total_pit_lane_ms,
        car.last_pit_lane_ms,
        car.last_loop,
        _sectors(car.sectors),
        _sectors(last_lap.sectors) if last_lap else [],
    )


def penalty_values(penalties: CarPenalties | None) -> tuple[int, int, int]:
    """A car's race-control tally (``PENALTY_FIELDS``; penalty laps as the log gives them)."""
    if penalties is None:
        return (0, 0, 0)
    return (penalties.warnings, penalties.penalty_laps, penalties.black_flags)
