"""A race, simulated: the RMonitor feed a timing stand would send, and the truth to check it by.

Deterministic for a seed (``random.Random(seed)``, no clock). The race follows what real feeds
show (../shared/reference/rmonitor-protocol.md §4): a run opens with three ``$I``, ``$B`` and a
refresh (track, classes, competitors, the grid with empty laps); a yellow formation lap, then
green just before the leader takes the start line; cars cross with class-dependent pace and
per-lap noise; a full-course yellow slows everyone for a while; each car makes one pit stop (a
slow lap); one or more cars retire; when time runs out (or the lap count is reached) the leader
takes the chequered flag and every car takes it once on its next crossing; Finish keeps ticking
a few seconds, then ``$B,95`` and a blank heartbeat close the run.

Each crossing is sent the way Orbits sends it: ``$J``, then ``$G`` for this car and every car
whose position moved, then ``$H`` likewise. ``$F`` comes every second; a periodic refresh re-sends
the level-3 records. Race time 0 is the moment the flag first goes yellow.
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime

from trackside.sim import lines
from trackside.sim.field import DEFAULT_CLASSES, ClassSpec, Entry, grid_order, make_field

# Tie-breaks between events at the same millisecond.
_SETUP, _CROSSING, _HEARTBEAT, _REFRESH, _END = range(5)


@dataclass(frozen=True, slots=True)
class SimConfig:
    """What race to simulate. ``laps`` set makes a lap race, else it runs ``duration_ms``."""

    seed: int = 1
    run: int = 12
    name: str = "Trackside Sprint Race"
    track: str = "Road America"
    track_length: str = "4.048"
    date: str = "26 Apr 25"
    classes: tuple[ClassSpec, ...] = DEFAULT_CLASSES
    duration_ms: int = 30 * 60_000
    laps: int | None = None
    start_time_of_day_ms: int = 13 * 3_600_000  # local time when the flag first goes yellow
    pre_start_ms: int = 15_000
    formation_ms: int = 55_000  # yellow flag to the leader's start-line crossing
    yellow_start_ms: int | None = None  # None: about 40 % into the race
    yellow_ms: int = 240_000
    yellow_slowdown: float = 1.4
    pit_loss_ms: tuple[int, int] = (45_000, 75_000)
    retirements: int = 1
    pace_spread: float = 0.018
    lap_noise: float = 0.006
    refresh_every_ms: int = 60_000
    after_finish_ms: int = 10_000


@dataclass(frozen=True, slots=True)
class FeedLine:
    """One RMonitor line and when the timing system sends it (ms since the feed began)."""

    at_ms: int
    line: str


@dataclass(frozen=True, slots=True)
class Classified:
    """The simulator's own account of one car at the end."""

    position: int
    registration: str
    class_id: int
    laps: int
    total_time_ms: int | None
    best_lap_ms: int | None
    best_lap: int | None
    starting_position: int
    pit_lap: int | None
    retired: bool
    finished: bool


@dataclass(frozen=True, slots=True)
class SimulatedRace:
    config: SimConfig
    entries: tuple[Entry, ...]
    lines: tuple[FeedLine, ...]
    classification: tuple[Classified, ...]
    flags: tuple[str, ...]  # each flag state in the order the heartbeats showed them
    green_ms: int
    yellow_ms: tuple[int, int]
    finish_ms: int

    def text_lines(self) -> list[str]:
        return [item.line for item in self.lines]

    def as_capture(self, start_utc_ms: int) -> bytes:
        """The feed as a relay capture: ``##`` receive-time headers (UTC), one per send time."""
        out: list[str] = []
        last: int | None = None
        for item in self.lines:
            if item.at_ms != last:
                seconds, millis = divmod(start_utc_ms + item.at_ms, 1000)
                stamp = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S")
                out.append(f"##{stamp}.{millis:03d}")
                last = item.at_ms
            out.append(item.line)
        return ("\r\n".join(out) + "\r\n").encode()


@dataclass(slots=True)
class _Car:
    entry: Entry
    grid: int
    pit_lap: int | None
    retire_after: int | None
    laps: int = 0
    last_cross_ms: int | None = None
    best_ms: int | None = None
    best_lap: int = 0
    finished: bool = False
    retired: bool = False

    def race_key(self) -> tuple[int, float, int]:
        crossed = float("inf") if self.last_cross_ms is None else self.last_cross_ms
        return (-self.laps, crossed, self.grid)

    def practice_key(self) -> tuple[float, int]:
        return (float("inf") if self.best_ms is None else self.best_ms, self.grid)


@dataclass(slots=True)
class _Race:
    """The running simulation: an event queue in race time, and the lines sent so far."""

    config: SimConfig
    rng: random.Random
    cars: list[_Car]
    green_ms: int
    yellow: tuple[int, int]
    out: list[tuple[int, str]] = field(default_factory=list)
    queue: list[tuple[int, int, int, int]] = field(default_factory=list)
    seq: int = 0
    order: list[_Car] = field(default_factory=list)
    practice: list[_Car] = field(default_factory=list)
    finish_ms: int | None = None
    end_ms: int | None = None
    flags: list[str] = field(default_factory=list)

    def push(self, at_ms: int, kind: int, car: int = -1) -> None:
        self.seq += 1
        heapq.heappush(self.queue, (at_ms, kind, self.seq, car))

    def send(self, at_ms: int, *texts: str) -> None:
        self.out.extend((at_ms, text) for text in texts)

    # --- flags and clocks ------------------------------------------------------------------

    def flag_at(self, t: int) -> str:
        if t < 0:
            return "none"
        if self.finish_ms is not None and t >= self.finish_ms:
            return "finish"
        if t < self.green_ms or self.yellow[0] <= t < self.yellow[1]:
            return "yellow"
        return "green"

    def heartbeat(self, t: int) -> None:
        config = self.config
        flag = self.flag_at(t)
        if not self.flags or self.flags[-1] != flag:
            self.flags.append(flag)
        if config.laps is not None:
            leader_laps = max(car.laps for car in self.cars)
            laps_to_go, time_to_go = max(config.laps - leader_laps, 0), 0
        else:
            laps_to_go = lines.UNLIMITED_LAPS
            time_to_go = min(max(config.duration_ms - max(t, 0), 0), config.duration_ms)
        tod = config.start_time_of_day_ms + t
        self.send(t, lines.heartbeat(laps_to_go, time_to_go, tod, max(t, 0), flag))

    # --- the scoreboard ---------------------------------------------------------------------

    def refresh(self, t: int) -> None:
        config = self.config
        self.send(t, lines.run(config.run, config.name))
        self.send(t, lines.setting("TRACKNAME", config.track))
        self.send(t, lines.setting("TRACKLENGTH", config.track_length))
        self.send(t, *(lines.race_class(spec) for spec in config.classes))
        for car in self.cars:
            self.send(t, *lines.competitor(car.entry))
        for position, car in enumerate(self.order, start=1):
            self.send(t, self._race_line(position, car))
        for position, car in enumerate(self.practice, start=1):
            self.send(t, self._practice_line(position, car))

    @staticmethod
    def _race_line(position: int, car: _Car) -> str:
        return lines.race_order(position, car.entry.registration, car.laps, car.last_cross_ms)

    @staticmethod
    def _practice_line(position: int, car: _Car) -> str:
        best = car.best_lap if car.best_ms is not None else 0
        return lines.practice_order(position, car.entry.registration, best, car.best_ms)

    def _reorder(self, t: int, car: _Car, practice: bool) -> None:
        """Send this car's order record, then every car whose position moved."""
        before = self.practice if practice else self.order
        after = sorted(self.cars, key=_Car.practice_key if practice else _Car.race_key)
        was = {id(c): i for i, c in enumerate(before)}
        write = self._practice_line if practice else self._race_line
        self.send(t, write(after.index(car) + 1, car))
        for position, other in enumerate(after, start=1):
            if other is not car and was[id(other)] != position - 1:
                self.send(t, write(position, other))
        if practice:
            self.practice = after
        else:
            self.order = after

    # --- laps ---------------------------------------------------------------------------------

    def lap_time(self, car: _Car, start: int, lap: int) -> int:
        config = self.config
        natural = car.entry.lap_ms * (1.0 + self.rng.gauss(0.0, config.lap_noise))
        if lap == car.pit_lap:
            natural += self.rng.randint(*config.pit_loss_ms)
        y0, y1 = self.yellow
        overlap = max(0.0, min(start + natural, y1) - max(start, y0))
        return round(natural + overlap * (config.yellow_slowdown - 1.0))

    def crossing(self, t: int, index: int) -> None:
        car = self.cars[index]
        lap_ms = None if car.last_cross_ms is None else t - car.last_cross_ms
        if lap_ms is not None:
            car.laps += 1
            if car.best_ms is None or lap_ms < car.best_ms:
                car.best_ms, car.best_lap = lap_ms, car.laps
            car.finished = self.finish_ms is not None
        car.last_cross_ms = t
        self.send(t, lines.passing(car.entry.registration, lap_ms, t))
        self._reorder(t, car, practice=False)
        if self.finish_ms is None and self.order[0] is car and self._race_done(t, car):
            self.finish_ms = t
            car.finished = True
        self._reorder(t, car, practice=True)
        if car.retire_after is not None and car.laps >= car.retire_after and not car.finished:
            car.retired = True
        if not (car.finished or car.retired):
            self.push(t + self.lap_time(car, t, car.laps + 1), _CROSSING, index)
        elif self.end_ms is None and all(c.finished or c.retired for c in self.cars):
            self.end_ms = -(-(t + self.config.after_finish_ms) // 1000) * 1000
            self.push(self.end_ms, _END)

    def _race_done(self, t: int, leader: _Car) -> bool:
        if leader.laps == 0:
            return False
        if self.config.laps is not None:
            return leader.laps >= self.config.laps
        return t >= self.config.duration_ms

    def run(self) -> None:
        config = self.config
        start = -config.pre_start_ms
        self.order = sorted(self.cars, key=_Car.race_key)
        self.practice = sorted(self.cars, key=_Car.practice_key)
        self.send(start, *(lines.init(config.start_time_of_day_ms + start, config.date),) * 3)
        self.refresh(start)
        self.push(start, _HEARTBEAT)
        if config.refresh_every_ms > 0:
            self.push(config.refresh_every_ms, _REFRESH)
        at = config.formation_ms
        for index in sorted(range(len(self.cars)), key=lambda i: self.cars[i].grid):
            self.push(at, _CROSSING, index)
            at += self.rng.randint(300, 1_200)
        limit = 3 * _expected_race_ms(config) + config.formation_ms + config.yellow_ms
        while self.queue:
            t, kind, _, index = heapq.heappop(self.queue)
            if t > limit:
                raise RuntimeError(f"simulated race did not end by race time {limit} ms")
            if kind == _CROSSING:
                self.crossing(t, index)
            elif kind == _HEARTBEAT:
                self.heartbeat(t)
                if self.end_ms is None or t + 1_000 <= self.end_ms:
                    self.push(t + 1_000, _HEARTBEAT)
            elif kind == _REFRESH:
                if self.end_ms is not None and t > self.end_ms:
                    continue  # the run is closed: nothing more to refresh
                self.refresh(t)
                self.push(t + config.refresh_every_ms, _REFRESH)
            else:
                self.send(t, lines.run(lines.NO_RUN, config.name))
                tod = config.start_time_of_day_ms + t + 1_000
                self.send(t + 1_000, lines.heartbeat(0, 0, tod, 0, "none"))


def _expected_race_ms(config: SimConfig) -> int:
    if config.laps is None:
        return config.duration_ms
    slowest = max(spec.base_lap_ms for spec in config.classes)
    return config.laps * slowest


def simulate(config: SimConfig | None = None) -> SimulatedRace:
    """Run the race; the same config (seed included) always gives the same feed."""
    config = config or SimConfig()
    rng = random.Random(config.seed)
    entries = make_field(config.classes, rng, config.pace_spread)
    grid = grid_order(entries, rng)
    race_ms = _expected_race_ms(config)
    mean_lap = sum(e.lap_ms for e in entries) / len(entries)
    expected_laps = max(3, int(race_ms / mean_lap))
    y0 = config.yellow_start_ms
    if y0 is None:
        y0 = config.formation_ms + (race_ms * 2 // 5) // 1000 * 1000
    yellow = (y0, y0 + config.yellow_ms)
    if not (config.formation_ms < y0 and yellow[1] < config.formation_ms + race_ms):
        raise ValueError("the yellow period must fall inside the race")
    retiring = set(rng.sample(range(len(grid)), min(config.retirements, len(grid) - 1)))
    cars = [
        _Car(
            entry=entry,
            grid=position,
            pit_lap=rng.randint(max(2, expected_laps * 3 // 10), max(2, expected_laps * 7 // 10)),
            retire_after=rng.randint(1, max(1, expected_laps // 3)) if i in retiring else None,
        )
        for i, (position, entry) in enumerate(enumerate(grid, start=1))
    ]
    race = _Race(config, rng, cars, config.formation_ms - 3_000, yellow)
    race.run()
    assert race.finish_ms is not None  # every race ends: the leader always keeps lapping
    offset = config.pre_start_ms
    ordered = sorted(enumerate(race.out), key=lambda item: (item[1][0], item[0]))
    final = sorted(cars, key=_Car.race_key)
    return SimulatedRace(
        config=config,
        entries=tuple(entries),
        lines=tuple(FeedLine(t + offset, text) for _, (t, text) in ordered),
        classification=tuple(
            Classified(
                position=position,
                registration=car.entry.registration,
                class_id=car.entry.class_id,
                laps=car.laps,
                total_time_ms=car.last_cross_ms,
                best_lap_ms=car.best_ms,
                best_lap=car.best_lap if car.best_ms is not None else None,
                starting_position=car.grid,
                pit_lap=car.pit_lap,
                retired=car.retired,
                finished=car.finished,
            )
            for position, car in enumerate(final, start=1)
        ),
        flags=tuple(race.flags),
        green_ms=race.green_ms,
        yellow_ms=yellow,
        finish_ms=race.finish_ms,
    )
