"""Standings: the classification an official reads, derived from a session's state.

Order comes from the timing system (``$G`` in races, ``$H`` by best lap in practice and
qualifying); everything else here is derived: class positions, gaps and differences, positions
gained, best-lap marks and stale cars. Penalty laps from the race-control log are deducted in
races only, and re-order them by ``timing.penalties.apply_penalty_laps``; practice and
qualifying are ordered by best lap, where a lap count decides nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from trackside.timing.car import Car
from trackside.timing.flags import RACING_FLAGS
from trackside.timing.penalties import ClassifiedCar, apply_penalty_laps
from trackside.timing.session import RACE, Session

# Used for the out-of-step guard before any lap time is known (§6 of the RMonitor reference).
DEFAULT_GAP_LIMIT_MS = 300_000
# A lap shorter than this share (%) of the session's typical lap is a partial lap.
PARTIAL_LAP_SHARE = 60
# A car is stale when it has not crossed the line for this many of its laps.
STALE_LAPS = 2


@dataclass(slots=True)
class Standing:
    """One line of the classification."""

    car: Car
    position: int
    class_position: int
    class_name: str
    laps: int  # after penalty laps
    total_time_ms: int | None
    last_lap_ms: int | None
    best_lap_ms: int | None
    best_lap: int | None
    gap_ms: int | None = None
    gap_laps: int = 0
    difference_ms: int | None = None
    difference_laps: int = 0
    class_gap_ms: int | None = None
    class_gap_laps: int = 0
    class_difference_ms: int | None = None
    class_difference_laps: int = 0
    starting_position: int | None = None
    starting_class_position: int | None = None
    positions_gained: int | None = None
    class_positions_gained: int | None = None
    most_gained: bool = False
    overall_best: bool = False
    class_best: bool = False
    last_lap_personal_best: bool = False
    last_lap_overall_best: bool = False
    stale: bool = False
    laps_completed: int = 0  # as the timing system counted them
    penalty_laps: int = 0  # deducted from ``laps_completed``


def penalty_key(number: str) -> str:
    """A car number as race-control logs are keyed (``feeds.controllog.parse_cars``)."""
    return number.strip().lstrip("#").strip().upper()


def _best(car: Car, shortest_ms: int) -> tuple[int | None, int | None]:
    """Best lap time and lap number: the feed's ``$H`` when one came, else our passings.

    A passing shorter than ``shortest_ms`` is a partial lap (a reset, a cut), never a best.
    """
    if car.feed_best:
        return car.practice_best_ms, car.practice_best_lap
    if car.best_lap_ms is None or car.best_lap_ms >= shortest_ms:
        return car.best_lap_ms, car.best_lap
    real = [lap for lap in car.laps if lap.lap_time_ms >= shortest_ms]
    best = min(real, key=lambda lap: lap.lap_time_ms, default=None)
    return (best.lap_time_ms, best.number) if best else (None, None)


def _shortest_lap_ms(cars: list[Car]) -> int:
    """The shortest plausible lap: a share of the session's typical lap (0 when unknown)."""
    times = [car.practice_best_ms for car in cars if car.feed_best and car.practice_best_ms]
    times += [car.laps[-1].lap_time_ms for car in cars if car.laps]
    times = [t for t in times if t > 0]
    if not times:
        return 0
    times.sort()
    return times[len(times) // 2] * PARTIAL_LAP_SHARE // 100


def _last_lap(car: Car, best_ms: int | None, best_lap: int | None) -> int | None:
    if car.laps:
        return car.laps[-1].lap_time_ms
    # Joined mid-session: the feed's best lap is the last lap when it was set on the last lap.
    if best_lap is not None and best_lap == car.race_laps:
        return best_ms
    return None


def _race_key(car: Car) -> tuple:
    if car.race_position is not None:
        return (0, car.race_position, -car.race_seq)
    return (1, -car.lap_count, car.total_time_ms or 0, car.registration)


def _practice_key(car: Car, best_ms: int | None) -> tuple:
    """By best lap as the feed ordered it; untimed cars after every timed one, in feed order."""
    untimed = best_ms is None
    if car.practice_position is not None:
        return (untimed, 0, car.practice_position, -car.practice_seq)
    return (untimed, 1, *_race_key(car))


def _percentile_90(values: list[int]) -> int | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, (len(ordered) * 9) // 10)]


def _confirmed(row: Standing) -> bool:
    """The car's ``$G`` total is the one of its latest passing: no update is still due."""
    laps = row.car.laps
    return bool(laps) and laps[-1].total_time_ms == row.total_time_ms


def _interval(
    car: Standing, ref: Standing, limit: int, name: str, final: bool
) -> tuple[int | None, int]:
    """Time or laps from ``ref`` (car ahead or leader) back to ``car``, race rules (§6).

    A large same-lap figure is held back as a transient live, but shown once the session has
    ended (``final``) or both totals are confirmed: a retired car can be 40 minutes down. What
    is held back is the figure last shown to the same car: a figure from another car ahead
    would be wrong (and would depend on when standings were read, not on the records).
    """
    shown = car.car.shown
    key = (name, ref.car.registration)
    if car.laps < ref.laps:
        return None, ref.laps - car.laps
    if car.laps > ref.laps:
        # The car ahead has fewer laps: it is stale, or its update has not arrived yet.
        return shown.get(key, (None, 0))
    if car.total_time_ms is None or ref.total_time_ms is None:
        return None, 0
    delta = car.total_time_ms - ref.total_time_ms
    if delta < 0 or (delta > limit and not (final or (_confirmed(car) and _confirmed(ref)))):
        return shown.get(key, (None, 0))  # transient from a non-atomic update
    shown[key] = (delta, 0)
    return delta, 0


def _best_interval(car: Standing, ref: Standing) -> tuple[int | None, int]:
    if car.best_lap_ms is None or ref.best_lap_ms is None:
        return None, 0
    return max(0, car.best_lap_ms - ref.best_lap_ms), 0


def _penalized(cars: list[Car], penalty_laps: Mapping[str, int]) -> tuple[list[Car], list[int]]:
    """Cars re-ordered after their penalty laps, with the laps each has deducted."""
    by_registration = {car.registration: car for car in cars}
    deducted = {car.registration: penalty_laps.get(penalty_key(car.number), 0) for car in cars}
    order = apply_penalty_laps(
        [ClassifiedCar(car.registration, car.lap_count, car.total_time_ms) for car in cars],
        deducted,
    )
    return [by_registration[line.car] for line in order], [line.penalty_laps for line in order]


def classify(session: Session, penalty_laps: Mapping[str, int] | None = None) -> list[Standing]:
    """The session's standings, best first. Pure apart from remembering gaps last shown.

    ``penalty_laps``: laps to deduct per car number (``penalty_key``), races only.
    """
    cars = [car for car in session.cars.values() if car.listed and not car.deleted]
    is_race = session.type == RACE
    shortest = _shortest_lap_ms(cars)
    bests = {car.registration: _best(car, shortest) for car in cars}
    if is_race:
        cars.sort(key=_race_key)
    else:
        cars.sort(key=lambda car: _practice_key(car, bests[car.registration][0]))
    deducted = [0] * len(cars)
    if is_race and penalty_laps:
        cars, deducted = _penalized(cars, penalty_laps)
    rows: list[Standing] = []
    classes = session.classes
    for index, (car, penalty) in enumerate(zip(cars, deducted, strict=True), start=1):
        best_ms, best_lap = bests[car.registration]
        laps = car.lap_count
        # car, position, class_position, class_name, laps, total_time_ms, last_lap_ms,
        # best_lap_ms, best_lap: by position, which costs half a call by keyword, every update.
        row = Standing(
            car,
            index,
            0,
            classes.get(car.class_id, "") if car.class_id else "",
            laps - penalty,
            car.total_time_ms,
            _last_lap(car, best_ms, best_lap),
            best_ms,
            best_lap,
        )
        row.starting_position = car.starting_position
        row.laps_completed = laps
        row.penalty_laps = penalty
        rows.append(row)
    if not rows:
        return rows
    p90 = _percentile_90([r.last_lap_ms for r in rows if r.last_lap_ms])
    limit = DEFAULT_GAP_LIMIT_MS if p90 is None else (p90 * 3) // 2

    by_class: dict[int | None, list[Standing]] = {}
    for row in rows:
        by_class.setdefault(row.car.class_id, []).append(row)

    _overall_intervals(rows, is_race, limit, session.ended)
    for members in by_class.values():
        _class_intervals(members, is_race, limit, session.ended)

    _mark_best_laps(rows, by_class)
    if is_race:
        _positions_gained(rows, by_class)
    _mark_stale(session, rows)
    return rows


def _overall_intervals(rows: list[Standing], is_race: bool, limit: int, final: bool) -> None:
    """Gap to the car ahead and difference to the leader, overall."""
    leader = ahead = rows[0]
    for row in rows[1:]:
        if is_race:
            row.gap_ms, row.gap_laps = _interval(row, ahead, limit, "gap", final)
            row.difference_ms, row.difference_laps = _interval(
                row, leader, limit, "difference", final
            )
        else:
            row.gap_ms, row.gap_laps = _best_interval(row, ahead)
            row.difference_ms, row.difference_laps = _best_interval(row, leader)
        ahead = row


def _class_intervals(members: list[Standing], is_race: bool, limit: int, final: bool) -> None:
    """Class positions, and gap and difference within the class."""
    leader = ahead = members[0]
    leader.class_position = 1
    for position, row in enumerate(members[1:], start=2):
        row.class_position = position
        if is_race:
            row.class_gap_ms, row.class_gap_laps = _interval(row, ahead, limit, "class_gap", final)
            row.class_difference_ms, row.class_difference_laps = _interval(
                row, leader, limit, "class_difference", final
            )
        else:
            row.class_gap_ms, row.class_gap_laps = _best_interval(row, ahead)
            row.class_difference_ms, row.class_difference_laps = _best_interval(row, leader)
        ahead = row


def _mark_best_laps(rows: list[Standing], by_class: dict[int | None, list[Standing]]) -> None:
    times = [r.best_lap_ms for r in rows if r.best_lap_ms]
    overall = min(times) if times else None
    for members in by_class.values():
        class_times = [r.best_lap_ms for r in members if r.best_lap_ms]
        class_best = min(class_times) if class_times else None
        for row in members:
            if row.best_lap_ms is None:
                continue
            row.overall_best = row.best_lap_ms == overall
            row.class_best = row.best_lap_ms == class_best
            if row.last_lap_ms is not None and row.last_lap_ms == row.best_lap_ms:
                row.last_lap_personal_best = True
                row.last_lap_overall_best = row.overall_best


def _positions_gained(rows: list[Standing], by_class: dict[int | None, list[Standing]]) -> None:
    for members in by_class.values():
        gridded = sorted(
            (r for r in members if r.starting_position is not None),
            key=lambda r: r.starting_position or 0,
        )
        for rank, row in enumerate(gridded, start=1):
            row.starting_class_position = rank
            row.class_positions_gained = rank - row.class_position
    best = 0
    for row in rows:
        if row.starting_position is not None:
            row.positions_gained = row.starting_position - row.position
            best = max(best, row.positions_gained)
    if best > 0:
        for row in rows:
            row.most_gained = row.positions_gained == best


def _mark_stale(session: Session, rows: list[Standing]) -> None:
    marks = stale_marks(session, rows)
    if marks is not None:
        for row, mark in zip(rows, marks, strict=True):
            row.stale = mark


def stale_marks(session: Session, rows: list[Standing]) -> list[bool] | None:
    """Which of the standings are stale cars: not seen at the line for much longer than a lap,
    once racing (None before). The one part of the standings that moves with the clock alone,
    so a live board whose records did not change asks only this again."""
    flag = session.heart.flag
    if flag not in RACING_FLAGS or not session.flag_periods:
        return None
    now = session.race_clock_ms
    if flag == "finish":
        # Judge at the moment the chequered flag came out, not as the clock runs on after it.
        now = session.flag_periods[-1].start_ms
    laps = sorted(r.last_lap_ms for r in rows if r.last_lap_ms)
    typical = laps[len(laps) // 2] if laps else None
    marks = []
    for row in rows:
        reference = row.last_lap_ms or typical
        crossed = row.car.last_crossing_ms or 0
        marks.append(reference is not None and now - crossed > STALE_LAPS * reference)
    return marks
