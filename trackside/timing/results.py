"""Results as plain data: the shape ``trackside replay --output`` writes and the API serves.

Every car carries its pit and loop fields and its race-control tally (``timing.extras``), with
neutral values where no loop or log says anything, so the shape is one everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from trackside.timing.engine import RaceEngine
from trackside.timing.extras import (
    LOOP_FIELDS,
    NONE,
    PENALTY_FIELDS,
    SessionExtras,
    loop_values,
    penalty_values,
)
from trackside.timing.loops import CarLoops
from trackside.timing.penalties import CarPenalties
from trackside.timing.scorer import Scorer
from trackside.timing.session import Session
from trackside.timing.standings import Standing, classify

# The fields of a car in results, in order; ``car_values`` gives their values.
CAR_FIELDS: tuple[str, ...] = (
    "number",
    "registration",
    "name",
    "first_name",
    "last_name",
    "class",
    "class_id",
    "transponder",
    "nationality",
    "additional",
    "position",
    "class_position",
    "laps",
    "total_time_ms",
    "last_lap_ms",
    "best_lap_ms",
    "best_lap",
    "gap_ms",
    "gap_laps",
    "difference_ms",
    "difference_laps",
    "class_gap_ms",
    "class_gap_laps",
    "class_difference_ms",
    "class_difference_laps",
    "starting_position",
    "starting_class_position",
    "positions_gained",
    "class_positions_gained",
    "most_positions_gained",
    "overall_best",
    "class_best",
    "last_lap_personal_best",
    "last_lap_overall_best",
    "correction_ms",
    "stale",
    "laps_completed",
    *PENALTY_FIELDS,
    *LOOP_FIELDS,
)


def car_values(
    row: Standing, loops: CarLoops | None = None, penalties: CarPenalties | None = None
) -> tuple[Any, ...]:
    """A car's result as a tuple in ``CAR_FIELDS`` order: cheap to compare with the last one."""
    car = row.car
    return (
        car.number,
        car.registration,
        car.name,
        car.first_name,
        car.last_name,
        row.class_name,
        car.class_id,
        car.transponder,
        car.nationality,
        car.additional,
        row.position,
        row.class_position,
        row.laps,
        row.total_time_ms,
        row.last_lap_ms,
        row.best_lap_ms,
        row.best_lap,
        row.gap_ms,
        row.gap_laps,
        row.difference_ms,
        row.difference_laps,
        row.class_gap_ms,
        row.class_gap_laps,
        row.class_difference_ms,
        row.class_difference_laps,
        row.starting_position,
        row.starting_class_position,
        row.positions_gained,
        row.class_positions_gained,
        row.most_gained,
        row.overall_best,
        row.class_best,
        row.last_lap_personal_best,
        row.last_lap_overall_best,
        car.correction_ms or None,
        row.stale,
        row.laps_completed,
        *penalty_values(penalties),
        *loop_values(loops),
    )


def car_dict(values: tuple[Any, ...]) -> dict[str, Any]:
    """A car's result from its ``car_values``."""
    return dict(zip(CAR_FIELDS, values, strict=True))


CarRow = Callable[[tuple[Any, ...]], dict[str, Any]]


def car_results(
    rows: list[Standing], extras: SessionExtras = NONE, car_row: CarRow = car_dict
) -> list[dict[str, Any]]:
    """The standings as results. ``car_row`` makes each car's dict from its values: the live
    snapshot passes one that hands back the last dict of a car whose values did not change."""
    car_loops, car_penalties = extras.car_loops, extras.car_penalties
    return [car_row(car_values(row, car_loops(row.car), car_penalties(row.car))) for row in rows]


def session_result(
    session: Session, extras: SessionExtras = NONE, cars: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """A session's result; ``cars``: its ``car_results`` when the caller has them already."""
    heart = session.heart
    if cars is None:
        cars = car_results(classify(session, extras.penalty_laps), extras)
    return {
        "run": session.run,
        "name": session.name,
        "type": session.type,
        "track": session.track_name,
        "track_length": session.track_length,
        "flag": heart.flag,
        "laps_to_go": heart.laps_to_go,
        "time_to_go_ms": heart.time_to_go_ms,
        "race_time_ms": session.race_clock_ms,
        "time_of_day_ms": heart.time_of_day_ms,
        "ended": session.ended,
        "resets": session.resets,
        "records": session.records,
        "classes": {str(k): v for k, v in sorted(session.classes.items())},
        "flag_periods": [
            {
                "flag": p.flag,
                "start_ms": p.start_ms,
                "end_ms": p.end_ms,
                "start_time_of_day_ms": p.start_time_of_day_ms,
                "end_time_of_day_ms": p.end_time_of_day_ms,
            }
            for p in session.flag_periods
        ],
        "cars": cars,
        "most_positions_gained": [car["number"] for car in cars if car["most_positions_gained"]],
    }


def engine_result(source: RaceEngine | Scorer) -> dict[str, Any]:
    """Every session of an engine, or of a scorer with what its loops and log add."""
    scorer = source if isinstance(source, Scorer) else Scorer(source)
    engine = scorer.engine
    return {
        "records": engine.records,
        "errors": engine.errors,
        "unknown": engine.unknown,
        "sessions": [
            session_result(s, scorer.extras(index)) for index, s in enumerate(engine.sessions)
        ],
        "error_samples": [{"raw": e.raw, "reason": e.reason} for e in engine.kept_errors[:50]],
    }
