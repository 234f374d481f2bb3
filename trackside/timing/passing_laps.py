"""Laps and order from start/finish loop crossings alone, for an event with no RMonitor feed.

The crossings become the records a timing system would have sent: a competitor the first time
an entry crosses a line (named from the event's entry list), a passing (``$J``) at each
start/finish crossing with the lap time the loops measured, and the race order (``$G``): most
laps first, then whoever completed them first. Race time runs from the session's first
start/finish crossing. The session's own code then keeps laps, best laps, gaps and positions
exactly as it does for a feed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from trackside.feeds.records import Competitor, Passing, RaceClass, RaceOrder
from trackside.timing.car import Car
from trackside.timing.loops import CarLoops
from trackside.timing.session import Session

PASSINGS_SESSION = "Passings"


@dataclass(frozen=True, slots=True)
class EntryInfo:
    """An event's entry as scoring needs it: who a number (and its transponder) is."""

    number: str
    transponder: str | None = None
    driver: str = ""
    team: str = ""
    class_name: str = ""


def _laps(car: Car) -> int:
    return car.laps[-1].number if car.laps else 0


class PassingLaps:
    """Feeds one passings session (``Session.from_passings``) from a ``PitLaneTracker``."""

    __slots__ = ("_classes", "_entries", "_positions", "_zero_ms", "session")

    def __init__(self, session: Session, entries: Mapping[str, EntryInfo]) -> None:
        self.session = session
        self._entries = entries  # by number
        self._zero_ms: int | None = None
        self._positions: dict[str, int] = {}
        self._classes: dict[str, int] = {}

    def line_crossed(self, car: CarLoops, time_ms: int) -> None:
        """``car`` crossed a start/finish loop at ``time_ms`` (the tracker accepted it)."""
        session = self.session
        if self._zero_ms is None:
            self._zero_ms = time_ms
        total = time_ms - self._zero_ms
        if car.entry not in session.cars:
            self._introduce(car)
        lap = car.last_lap
        lap_time = lap.lap_time_ms if lap is not None and lap.end_ms == time_ms else None
        session.apply_passing(Passing(car.entry, lap_time, total))
        session.records += 1
        session.race_clock_ms = max(session.race_clock_ms, total)
        self._order()

    def _introduce(self, car: CarLoops) -> None:
        entry = self._entries.get(car.entry)
        class_id = None
        if entry is not None and entry.class_name:
            class_id = self._classes.get(entry.class_name)
            if class_id is None:
                class_id = self._classes[entry.class_name] = len(self._classes) + 1
                self.session.apply_class(RaceClass(class_id, entry.class_name))
        self.session.apply_competitor(
            Competitor(
                registration=car.entry,
                number=car.entry,
                transponder=car.transponder or None,
                first_name=entry.team if entry else "",
                last_name=entry.driver if entry else "",
                nationality="",
                class_id=class_id,
                additional=None,
                layout="passings",
            )
        )

    def _order(self) -> None:
        """Race order after a crossing; only cars whose place changed are sent again."""
        cars = sorted(
            self.session.cars.values(),
            key=lambda c: (-_laps(c), c.last_crossing_ms or 0, c.registration),
        )
        for position, car in enumerate(cars, start=1):
            if self._positions.get(car.registration) == position and car.race_laps == _laps(car):
                continue
            self._positions[car.registration] = position
            self.session.apply_race_order(
                RaceOrder(position, car.registration, _laps(car), car.last_crossing_ms)
            )
