"""One run (session) of the timing system, scored from the records that belong to it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from trackside.feeds.records import (
    NO_FLAG,
    Competitor,
    Correction,
    Heartbeat,
    Passing,
    PracticeOrder,
    RaceClass,
    RaceOrder,
    Setting,
)
from trackside.timing.car import Car
from trackside.timing.flags import LATE_HEARTBEAT_MS, FlagPeriod
from trackside.timing.laps import SAME_CROSSING_MS, Lap

RACE = "race"
PRACTICE = "practice"
QUALIFYING = "qualifying"
SESSION_TYPES = (RACE, PRACTICE, QUALIFYING)

_QUALIFYING_WORDS = re.compile(r"qual|\bq\d\b|pole|superpole|time ?trial|shootout", re.I)
_PRACTICE_WORDS = re.compile(
    r"pract|\bfp\d|\bp\d\b|warm|hpde|test|school|lapping|open track|track day|session", re.I
)
_RACE_WORDS = re.compile(
    r"race|hour|\bhr\b|feature|heat|final|sprint|enduro|grand prix|\bgp\b|main|\d+\s*h\b", re.I
)


def guess_session_type(name: str) -> str:
    """Race, practice or qualifying from the run's name, the way an official would read it.

    Qualifying and practice words win over race words: "Race Practice 1" is a practice. A name
    that says nothing is taken as a race, where the timing system's order is the truth.
    """
    if _QUALIFYING_WORDS.search(name):
        return QUALIFYING
    if _PRACTICE_WORDS.search(name):
        return PRACTICE
    return RACE


@dataclass(slots=True)
class Heart:
    """The session's latest clocks and flag, from ``$F``."""

    flag: str = NO_FLAG
    laps_to_go: int | None = None
    time_to_go_ms: int = 0
    time_of_day_ms: int | None = None
    race_time_ms: int | None = None


@dataclass(slots=True)
class Session:
    """A run's cars, classes, clocks and flag periods; each run is scored on its own."""

    run: int | None
    name: str = ""
    type: str = RACE
    type_from_name: bool = True
    classes: dict[int, str] = field(default_factory=dict)
    cars: dict[str, Car] = field(default_factory=dict)
    heart: Heart = field(default_factory=Heart)
    flag_periods: list[FlagPeriod] = field(default_factory=list)
    track_name: str = ""
    track_length: str = ""
    ended: bool = False
    resets: int = 0
    records: int = 0
    # Highest race time seen; the feed's race clock falls back to 0 after the finish.
    race_clock_ms: int = 0
    seq: int = 0
    # Scored from loop passings alone (no RMonitor feed): see ``timing.passing_laps``.
    from_passings: bool = False
    # Registrations entered since the run's latest $B, while that refresh is still coming.
    refresh: set[str] | None = None
    # Scored from judges' taps (``timing.manual``), for the stored session row ``stored_id``.
    manual: bool = False
    stored_id: int | None = None

    def rename(self, name: str) -> None:
        self.name = name
        if self.type_from_name:
            self.type = guess_session_type(name)

    # --- records -------------------------------------------------------------------------

    def car(self, registration: str) -> Car:
        car = self.cars.get(registration)
        if car is None:
            car = self.cars[registration] = Car(registration=registration, number=registration)
        car.listed = True
        return car

    def apply_heartbeat(self, beat: Heartbeat) -> None:
        race_time = beat.race_time_ms
        heart = self.heart
        if race_time is not None and race_time < self.race_clock_ms:
            if self.race_clock_ms - race_time < LATE_HEARTBEAT_MS and race_time > 0:
                return  # a late, out-of-order heartbeat: newer ones were already applied
        elif race_time is not None:
            self.race_clock_ms = race_time
        heart.laps_to_go = beat.laps_to_go
        heart.time_to_go_ms = beat.time_to_go_ms
        heart.time_of_day_ms = beat.time_of_day_ms
        heart.race_time_ms = race_time
        if beat.flag != heart.flag or not self.flag_periods:
            self._change_flag(beat.flag, beat.time_of_day_ms)

    def _change_flag(self, flag: str, time_of_day_ms: int | None) -> None:
        at = self.race_clock_ms
        if self.flag_periods:
            last = self.flag_periods[-1]
            last.end_ms = at
            last.end_time_of_day_ms = time_of_day_ms
        self.flag_periods.append(FlagPeriod(flag, at, None, time_of_day_ms))
        self.heart.flag = flag

    def begin_refresh(self) -> None:
        """``$B`` for this run: the entry list that follows is the whole field."""
        if self.refresh is None:
            self.refresh = set()

    def _end_refresh(self) -> None:
        """The scoreboard resumes: cars the refresh left out were deleted at the stand."""
        entered, self.refresh = self.refresh, None
        if not entered:
            return  # no entry list came: nothing was said about the field
        for registration, car in self.cars.items():
            if registration not in entered:
                car.deleted = True

    def apply_competitor(self, rec: Competitor) -> None:
        car = self.car(rec.registration)
        car.deleted = False
        if self.refresh is not None:
            self.refresh.add(rec.registration)
        # An empty incoming value never erases a known one (feeds send partial layouts).
        if rec.number:
            car.number = rec.number
        if rec.transponder:
            car.transponder = rec.transponder
        if rec.first_name:
            car.first_name = rec.first_name
        if rec.last_name:
            car.last_name = rec.last_name
        if rec.nationality:
            car.nationality = rec.nationality
        if rec.additional:
            car.additional = rec.additional
        if rec.class_id is not None:
            car.class_id = rec.class_id

    def apply_class(self, rec: RaceClass) -> None:
        self.classes[rec.class_id] = rec.description

    def apply_setting(self, rec: Setting) -> None:
        if rec.name == "TRACKNAME":
            self.track_name = rec.value
        elif rec.name == "TRACKLENGTH":
            self.track_length = rec.value

    def apply_race_order(self, rec: RaceOrder) -> None:
        if self.refresh is not None:
            self._end_refresh()
        car = self.car(rec.registration)
        if car.corrected_from is not None and (rec.laps, rec.total_time_ms) == car.corrected_from:
            pass  # the uncorrected result re-sent in a refresh: the correction stands
        else:
            car.race_laps = rec.laps
            car.total_time_ms = rec.total_time_ms
            if car.corrected_from is not None:
                car.corrected_from = None
                car.correction_ms = 0
        self.seq += 1
        car.race_position = rec.position
        car.race_seq = self.seq
        total = rec.total_time_ms
        if not car.started:
            if total is None and (rec.laps or 0) <= 0:
                car.starting_position = rec.position  # still on the grid
            else:
                car.started = True
        # The passing just before this $G: take the feed's lap number and position for it.
        lap = car.laps[-1] if car.laps else None
        if lap is not None and lap.total_time_ms == total and total is not None:
            lap.position = rec.position
        if (
            lap is not None
            and rec.laps is not None
            and rec.laps > 0
            and lap.total_time_ms == total
            and lap.number != rec.laps
        ):
            lap.number = rec.laps
            if car.best_lap_ms == lap.lap_time_ms:
                car.recompute_best()
        if total is not None and (car.last_crossing_ms is None or total > car.last_crossing_ms):
            car.last_crossing_ms = total

    def apply_practice_order(self, rec: PracticeOrder) -> None:
        if self.refresh is not None:
            self._end_refresh()
        car = self.car(rec.registration)
        car.feed_best = True
        self.seq += 1
        car.practice_position = rec.position
        car.practice_best_lap = rec.best_lap
        car.practice_best_ms = rec.best_lap_time_ms
        car.practice_seen = True
        car.practice_seq = self.seq

    def apply_passing(self, rec: Passing) -> None:
        if self.refresh is not None:
            self._end_refresh()
        car = self.car(rec.registration)
        car.started = True
        total = rec.total_time_ms
        lap_time = rec.lap_time_ms
        last = car.laps[-1] if car.laps else None
        if (
            last is not None
            and total is not None
            and last.total_time_ms is not None
            and abs(total - last.total_time_ms) < SAME_CROSSING_MS
        ):
            # The same crossing re-sent with a corrected time.
            if lap_time:
                last.lap_time_ms = lap_time
            last.total_time_ms = total
            car.recompute_best()
        elif not lap_time:
            car.start_crossing_ms = total  # the start-line crossing opens lap 1
        else:
            number = max(last.number if last else 0, car.race_laps or 0) + 1
            car.laps.append(Lap(number, lap_time, total, self.heart.flag))
            if car.best_lap_ms is None or lap_time < car.best_lap_ms:
                car.best_lap_ms = lap_time
                car.best_lap = number
        if total is not None and (car.last_crossing_ms is None or total > car.last_crossing_ms):
            car.last_crossing_ms = total

    def apply_correction(self, rec: Correction) -> None:
        car = self.car(rec.registration)
        if rec.number:
            car.number = rec.number
        car.corrected_from = (car.race_laps, car.total_time_ms)
        if rec.laps is not None:
            car.race_laps = rec.laps
        car.total_time_ms = rec.corrected_total_ms
        car.correction_ms = rec.correction_ms

    def reset_scoreboard(self, wipe: bool = True) -> None:
        """``$I``: forget the order and who is listed; keep every lap already scored.

        ``wipe=False`` when no refresh follows the reset: the board is then kept as it was.
        """
        self.resets += 1
        if not wipe:
            return
        for car in self.cars.values():
            car.listed = False
            car.race_position = None
            car.practice_position = None
            car.practice_seen = False
