"""The official classification of a session: officials' corrections applied, and its versions.

Pure: cars come in as the results shape (``timing.results.car_dict``), records as
``feeds.classification_records``. Rules:

- ``laps`` adds (or, negative, removes) laps; ``time_penalty`` adds ``ms`` to the total time;
  in a race a car so corrected moves to where its laps and total time put it among the cars
  no correction touched, whose order stays the timing system's. Practice and qualifying keep
  their best-lap order (a time penalty there is shown, not applied to laps).
- ``class`` moves the car to another class: class positions and gaps follow.
- ``disqualify`` and ``exclude`` list the car last with ``"status": "DSQ"`` / ``"EXCL"`` and no
  position.
- A session is ``official`` from a declaration until the next correction or withdrawal, and
  each declaration freezes the cars it declared as the next revision.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from trackside.feeds.classification_records import (
    ClassificationRecord,
    Correction,
    Declaration,
    Withdrawal,
)

PROVISIONAL = "provisional"
OFFICIAL = "official"
_OUT = {"disqualify": "DSQ", "exclude": "EXCL"}
_MOVES = frozenset({"laps", "time_penalty"})
Car = dict[str, Any]


def _fresh(car: Car) -> Car:
    return {**car, "status": None, "penalty_ms": 0, "lap_correction": 0, "corrections": []}


def _beats(car: Car, other: Car) -> bool:
    """Does ``car`` classify ahead of ``other`` on laps, then on total time?"""
    if car["laps"] != other["laps"]:
        return (car["laps"] or 0) > (other["laps"] or 0)
    mine, theirs = car["total_time_ms"], other["total_time_ms"]
    return mine is not None and (theirs is None or mine < theirs)


def _interval(car: Car, ref: Car, race: bool) -> tuple[int | None, int]:
    if not race:
        best, ref_best = car["best_lap_ms"], ref["best_lap_ms"]
        return (None if best is None or ref_best is None else max(0, best - ref_best)), 0
    if (car["laps"] or 0) < (ref["laps"] or 0):
        return None, (ref["laps"] or 0) - (car["laps"] or 0)
    if car["total_time_ms"] is None or ref["total_time_ms"] is None:
        return None, 0
    return max(0, car["total_time_ms"] - ref["total_time_ms"]), 0


def _number(classified: list[Car], race: bool) -> None:
    """Positions, class positions, and as the engine has them: gap to the car ahead,
    difference to the leader (overall and in class); the leader has neither."""
    groups: dict[Any, list[Car]] = {}
    for index, car in enumerate(classified):
        car["position"] = index + 1
        groups.setdefault(car["class"], []).append(car)
    for group, prefix in [(classified, ""), *((g, "class_") for g in groups.values())]:
        for i, car in enumerate(group):
            if prefix:
                car["class_position"] = i + 1
            ahead, leader = (group[i - 1], group[0]) if i else (None, None)
            gap = _interval(car, ahead, race) if ahead else (None, 0)
            difference = _interval(car, leader, race) if leader else (None, 0)
            car[prefix + "gap_ms"], car[prefix + "gap_laps"] = gap
            car[prefix + "difference_ms"], car[prefix + "difference_laps"] = difference


def _unplaced(car: Car) -> None:
    for name in ("position", "class_position", "gap_ms", "difference_ms", "class_gap_ms"):
        car[name] = None
    for name in ("gap_laps", "difference_laps", "class_gap_laps", "class_difference_laps"):
        car[name] = 0
    car["class_difference_ms"] = None


def correct(cars: Sequence[Car], corrections: Sequence[Correction], race: bool) -> list[Car]:
    """The cars with every correction applied, in classification order (new dicts)."""
    out = [_fresh(car) for car in cars]
    if not corrections:
        return out
    by_number = {car["number"]: car for car in out}
    moved: set[str] = set()
    for fix in sorted(corrections, key=lambda c: c.id):
        car = by_number.get(fix.car)
        if car is None:
            continue  # a car the feed no longer has: the correction waits for it
        car["corrections"].append(fix.id)
        if fix.kind == "laps" and fix.laps:
            car["laps"] = (car["laps"] or 0) + fix.laps
            car["lap_correction"] += fix.laps
        elif fix.kind == "time_penalty" and fix.ms:
            car["penalty_ms"] += fix.ms
            if car["total_time_ms"] is not None:
                car["total_time_ms"] += fix.ms
        elif fix.kind == "class" and fix.class_name:
            car["class"] = fix.class_name
        elif fix.kind in _OUT:
            car["status"] = _OUT[fix.kind]
        if fix.kind in _MOVES:
            moved.add(fix.car)
    classified = [car for car in out if car["status"] is None]
    if race and moved:
        staying = [car for car in classified if car["number"] not in moved]
        for car in (car for car in classified if car["number"] in moved):
            at = next((i for i, other in enumerate(staying) if _beats(car, other)), len(staying))
            staying.insert(at, car)
        classified = staying
    _number(classified, race)
    out_of_it = [car for car in out if car["status"] is not None]
    for car in out_of_it:
        _unplaced(car)
    return classified + out_of_it


@dataclass(frozen=True, slots=True)
class Version:
    """One declared classification, frozen as it was declared."""

    revision: int
    declared_at_ms: int
    declared_by: str
    corrections: tuple[Correction, ...]
    cars: tuple[Car, ...]


@dataclass(slots=True)
class SessionClassification:
    """One session's corrections (withdrawn ones too, marked in ``withdrawn``) and versions."""

    corrections: dict[int, Correction] = field(default_factory=dict)
    withdrawn: dict[int, Withdrawal] = field(default_factory=dict)
    versions: list[Version] = field(default_factory=list)
    official: bool = False

    @property
    def status(self) -> str:
        return OFFICIAL if self.official else PROVISIONAL

    @property
    def revision(self) -> int:
        return len(self.versions)

    @property
    def active(self) -> list[Correction]:
        """The corrections in force, in the order they were made."""
        return [c for c in self.corrections.values() if c.id not in self.withdrawn]

    @property
    def latest(self) -> Version | None:
        return self.versions[-1] if self.versions else None


# The corrected cars of a session index as they stand, given the corrections in force.
Classify = Callable[[int, Sequence[Correction]], list[Car]]


class Classifications:
    """Every session's classification of one event, built by applying the log's records."""

    def __init__(self) -> None:
        self.sessions: dict[int, SessionClassification] = {}

    def of(self, index: int) -> SessionClassification:
        """The session's classification; an empty provisional one if nothing was decided."""
        return self.sessions.get(index) or SessionClassification()

    def apply(self, record: ClassificationRecord, classify: Classify) -> str | None:
        """Apply one record; returns why it cannot apply (it then changes nothing)."""
        state = self.sessions.setdefault(record.session, SessionClassification())
        if isinstance(record, Declaration):
            cars = classify(record.session, state.active)
            version = Version(
                state.revision + 1, record.at_ms, record.by, tuple(state.active), tuple(cars)
            )
            state.versions.append(version)
            state.official = True
        elif isinstance(record, Correction):
            state.corrections[record.id] = record
            state.official = False
        else:
            if record.correction not in state.corrections or record.correction in state.withdrawn:
                return f"no correction {record.correction} in force in session {record.session}"
            state.withdrawn[record.correction] = record
            state.official = False
        return None
