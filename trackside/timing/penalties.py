"""Penalties from the race-control log, and penalty laps applied to a classification.

The log is append-only: a key's newest revision is its truth and a removal withdraws it, so the
result is always the one the current upstream log implies. A penalty counts against the first
car of its entry (logs list the offender first).

Classification rule: penalty laps are subtracted from the laps a car completed, then cars are
ordered by those adjusted laps, most first. Among cars on equal adjusted laps the original order
(the timing system's, authoritative) is kept: a penalized car reached that lap count before the
cars it was already ahead of, so it stays ahead of them. Laps may go below zero, as timing
systems that deduct penalty laps themselves show. Apply it only to laps the timing system has
not already reduced.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from trackside.feeds.controllog_records import (
    BLACK_FLAG,
    PENALTY_LAPS,
    WARNING,
    ControlLogEntry,
    ControlLogRecord,
    latest,
)


@dataclass(slots=True, frozen=True)
class CarPenalties:
    """A car's tally from the log: the ``pw`` and ``pl`` of the live payload, black flags."""

    car: str
    warnings: int = 0
    penalty_laps: int = 0
    black_flags: int = 0
    entries: tuple[str, ...] = ()  # keys of the entries that count, in log order


def current_entries(records: Iterable[ControlLogRecord]) -> list[ControlLogEntry]:
    """The entries the log holds now: each key's newest revision, removed keys and bad rows
    left out, in the order keys first appeared."""
    newest = latest(records).values()
    return [record for record in newest if isinstance(record, ControlLogEntry)]


def car_penalties(records: Iterable[ControlLogRecord]) -> dict[str, CarPenalties]:
    """Per car number, the warnings, penalty laps and black flags of the current log."""
    tally: dict[str, list[int]] = {}
    keys: dict[str, list[str]] = {}
    for entry in current_entries(records):
        car = entry.penalized_car
        if car is None:
            continue
        counts = tally.setdefault(car, [0, 0, 0])
        kind = entry.penalty.kind
        if kind == WARNING:
            counts[0] += 1
        elif kind == PENALTY_LAPS:
            counts[1] += entry.penalty.laps
        elif kind == BLACK_FLAG:
            counts[2] += 1
        keys.setdefault(car, []).append(entry.key)
    return {
        car: CarPenalties(car, warnings, laps, flags, tuple(keys[car]))
        for car, (warnings, laps, flags) in tally.items()
    }


def penalty_fields(penalties: CarPenalties | None) -> dict[str, int]:
    """The ``CarPosition`` payload fields this tally owns, by their wire names."""
    if penalties is None:
        return {"pl": 0, "pw": 0}
    return {"pl": penalties.penalty_laps, "pw": penalties.warnings}


@dataclass(slots=True, frozen=True)
class ClassifiedCar:
    """A line of a classification as the timing system ordered it."""

    car: str
    laps: int
    total_time_ms: int | None = None


@dataclass(slots=True, frozen=True)
class PenalizedCar:
    """A line of the classification after penalty laps."""

    car: str
    position: int
    laps: int  # after penalty laps
    laps_completed: int  # as the timing system counted them
    penalty_laps: int
    total_time_ms: int | None
    position_before: int


def apply_penalty_laps(
    order: Sequence[ClassifiedCar], penalty_laps: Mapping[str, int]
) -> list[PenalizedCar]:
    """Deduct each car's penalty laps and re-order (rule in the module docstring)."""
    adjusted = [
        (car.laps - penalty_laps.get(car.car, 0), before, car)
        for before, car in enumerate(order, start=1)
    ]
    adjusted.sort(key=lambda item: (-item[0], item[1]))
    return [
        PenalizedCar(
            car=car.car,
            position=position,
            laps=laps,
            laps_completed=car.laps,
            penalty_laps=penalty_laps.get(car.car, 0),
            total_time_ms=car.total_time_ms,
            position_before=before,
        )
        for position, (laps, before, car) in enumerate(adjusted, start=1)
    ]
