"""The ``iracing`` record type: stored JSON decoded into the feed records the scorer applies."""

from __future__ import annotations

import pytest

from trackside.feeds import iracing
from trackside.feeds.records import (
    FINISH,
    NO_RUN,
    Competitor,
    Heartbeat,
    Passing,
    PracticeOrder,
    RaceOrder,
    Run,
)
from trackside.timing.engine import RaceEngine
from trackside.timing.standings import classify

SESSION = {
    "kind": "session",
    "run": 7,
    "name": "iRacing race 7",
    "track": "Spa",
    "classes": [[1, "FR"]],
    "cars": [
        {"car": "12", "number": "12", "first": "Ana", "last": "Diaz", "class": 1, "grid": 2},
        {"car": "3", "number": "3", "first": "Bo", "last": "Li", "class": 1, "grid": 1},
    ],
}


def _laps() -> list[dict]:
    def lap(car: str, n: int, lap_ms: int | None, total: int, pos: int) -> dict:
        return {"kind": "lap", "car": car, "lap": n, "lap_ms": lap_ms, "total_ms": total,
                "order": "race", "position": pos}  # fmt: skip

    return [
        lap("3", 0, None, 1000, 1),
        lap("12", 0, None, 1500, 2),
        lap("3", 1, 90000, 91000, 1),
        lap("12", 1, 89000, 90500, 1),
    ]


def test_a_session_opens_a_run_with_cars_and_grid() -> None:
    records = iracing.decode(iracing.encode(SESSION))
    assert records[0] == Run(7, "iRacing race 7")
    competitors = [r for r in records if isinstance(r, Competitor)]
    assert [(c.registration, c.first_name, c.class_id) for c in competitors] == [
        ("12", "Ana", 1),
        ("3", "Bo", 1),
    ]
    grid = [r for r in records if isinstance(r, RaceOrder)]
    assert [(g.position, g.registration) for g in grid] == [(1, "3"), (2, "12")]
    assert isinstance(records[-1], Heartbeat) and records[-1].flag == "green"


def test_laps_and_the_finish_score_a_race() -> None:
    finish = {
        "kind": "finish",
        "order": "race",
        "total_ms": 91000,
        "cars": [
            {"car": "12", "position": 1, "laps": 1, "total_ms": 90500},
            {"car": "3", "position": 2, "laps": 1, "total_ms": 91000},
        ],
    }
    engine = RaceEngine()
    for data in [SESSION, *_laps(), finish]:
        engine.apply_all(iracing.decode(iracing.encode(data)))
    [session] = engine.sessions
    assert session.ended and session.heart.flag == FINISH
    assert session.track_name == "Spa"
    order = classify(session)
    assert [(s.car.registration, s.position, s.best_lap_ms) for s in order] == [
        ("12", 1, 89000),
        ("3", 2, 90000),
    ]
    assert order[0].starting_position == 2


def test_a_start_crossing_has_no_lap_time() -> None:
    records = iracing.decode(iracing.encode(_laps()[0]))
    passing = next(r for r in records if isinstance(r, Passing))
    assert passing.lap_time_ms is None and passing.total_time_ms == 1000


def test_practice_laps_give_practice_order() -> None:
    data = {"kind": "lap", "car": "3", "lap": 2, "lap_ms": 60000, "total_ms": 120000,
            "order": "practice", "position": 1, "best_ms": 59000, "best_lap": 1}  # fmt: skip
    [_, _, order] = iracing.decode(iracing.encode(data))
    assert order == PracticeOrder(1, "3", 1, 59000)


def test_the_finish_closes_the_run() -> None:
    records = iracing.decode(iracing.encode({"kind": "finish", "order": "race", "cars": []}))
    assert records[-1] == Run(NO_RUN, "")


@pytest.mark.parametrize(
    "data",
    [
        "not json",
        "[1]",
        '{"kind": "podium"}',
        '{"kind": "session", "run": 95, "cars": []}',
        '{"kind": "session", "run": 1}',
        '{"kind": "lap", "car": "1", "lap": 1}',
        '{"kind": "lap", "car": "1", "lap": true, "total_ms": 5}',
        '{"kind": "finish", "cars": [{"car": "1"}]}',
    ],
)
def test_bad_records_are_value_errors(data: str) -> None:
    with pytest.raises(ValueError, match="iracing record"):
        iracing.decode(data)
