from __future__ import annotations

from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from trackside.feeds.controllog import changes, parse_control_log
from trackside.timing.penalties import (
    CarPenalties,
    ClassifiedCar,
    PenalizedCar,
    apply_penalty_laps,
    car_penalties,
    current_entries,
    penalty_fields,
)

LOG = """\
Time,Corner,Car #,Car #,Note,Status,Penalty / Action
9:12:33 AM,T5,77,,Off track 4 wheels,Reviewed,Warning
9:40:02 AM,T1,12,144,"Contact, 12 into 144",Penalty,1 Lap
10:05:47 AM,Pit Lane,33,,Pit lane speeding,Penalty,Drive Through
10:31:19 AM,T8,,,"Debris, local yellow",Closed,Warning
11:15:40 AM,T12,12,,Unsafe release,Penalty,Stop and Go
11:20:00 AM,T1,77,,Off track again,Reviewed,Warning
11:45:10 AM,T10,144,88,Avoidable contact,Penalty,2 laps
12:05:00 PM,T3,5,,Passing under yellow,Under review,
,T2,88,,Spun,Open,Warning
"""


def test_tally_per_car_from_a_log() -> None:
    log = changes([], parse_control_log(LOG))
    assert car_penalties(log) == {
        "77": CarPenalties("77", warnings=2, entries=("row:2", "row:7")),
        "12": CarPenalties("12", penalty_laps=1, black_flags=1, entries=("row:3", "row:6")),
        "33": CarPenalties("33", black_flags=1, entries=("row:4",)),
        "144": CarPenalties("144", penalty_laps=2, entries=("row:8",)),
    }
    # Car 88 is only the second car of an incident and in a bad row (no time): no tally.
    assert "88" not in car_penalties(log)
    assert penalty_fields(car_penalties(log)["12"]) == {"pl": 1, "pw": 0}
    assert penalty_fields(car_penalties(log)["77"]) == {"pl": 0, "pw": 2}
    assert penalty_fields(None) == {"pl": 0, "pw": 0}


def test_superseded_and_removed_entries() -> None:
    log = changes([], parse_control_log(LOG))
    # Race control turns car 12's lap into a warning, rescinds car 33's drive-through and
    # deletes car 77's second warning.
    edited = (
        LOG.replace(
            '"Contact, 12 into 144",Penalty,1 Lap', '"Contact, 12 into 144",Penalty,Warning'
        )
        .replace("Penalty,Drive Through", "Rescinded,Drive Through")
        .replace("11:20:00 AM,T1,77,,Off track again,Reviewed,Warning\n", "")
    )
    log += changes(log, parse_control_log(edited))
    assert len(current_entries(log)) == 7
    tally = car_penalties(log)
    assert tally["12"] == CarPenalties("12", warnings=1, black_flags=1, entries=("row:3", "row:6"))
    assert "33" not in tally  # the rescinded drive-through was its only penalty
    assert tally["77"].warnings == 1
    # Rows below the deleted one moved up a row, so 144's entry is now row 7.
    assert tally["144"] == CarPenalties("144", penalty_laps=2, entries=("row:7",))
    # The log kept every version: the original lap penalty is still there to audit.
    assert any(getattr(r, "penalty_text", "") == "1 Lap" for r in log)


def _order(*cars: tuple[str, int]) -> list[ClassifiedCar]:
    return [ClassifiedCar(car, laps, 1_000 * i) for i, (car, laps) in enumerate(cars, start=1)]


def test_penalty_laps_reorder_the_classification() -> None:
    order = _order(("12", 50), ("7", 50), ("31", 49), ("144", 49), ("5", 47))
    result = apply_penalty_laps(order, {"12": 1, "144": 2})
    assert [(r.car, r.position, r.laps, r.position_before) for r in result] == [
        ("7", 1, 50, 2),
        ("12", 2, 49, 1),  # reached 49 laps before 31 did: stays ahead of it
        ("31", 3, 49, 3),
        ("144", 4, 47, 4),  # level with 5 after the penalty, and was ahead of it
        ("5", 5, 47, 5),
    ]
    assert result[1] == PenalizedCar(
        car="12",
        position=2,
        laps=49,
        laps_completed=50,
        penalty_laps=1,
        total_time_ms=1_000,
        position_before=1,
    )


def test_penalty_laps_can_go_below_zero_and_unknown_cars_are_ignored() -> None:
    result = apply_penalty_laps(_order(("9", 1), ("8", 0)), {"9": 3, "99": 5})
    assert [(r.car, r.laps) for r in result] == [("8", 0), ("9", -2)]


def test_no_penalties_keeps_the_order() -> None:
    order = _order(("1", 10), ("2", 10), ("3", 9))
    result = apply_penalty_laps(order, {})
    assert [r.car for r in result] == ["1", "2", "3"]
    assert all(r.position == r.position_before for r in result)


@settings(max_examples=200)
@given(
    laps=st.lists(st.integers(0, 60), min_size=1, max_size=20),
    penalties=st.dictionaries(st.integers(0, 19).map(str), st.integers(0, 5), max_size=8),
)
def test_classification_properties(laps: list[int], penalties: dict[str, int]) -> None:
    order = [ClassifiedCar(str(i), n) for i, n in enumerate(sorted(laps, reverse=True))]
    result = apply_penalty_laps(order, penalties)
    assert [r.position for r in result] == list(range(1, len(order) + 1))
    assert sorted(r.car for r in result) == sorted(c.car for c in order)
    assert [r.laps for r in result] == sorted((r.laps for r in result), reverse=True)
    for row in result:
        assert row.laps == row.laps_completed - penalties.get(row.car, 0)
    # Among equal adjusted laps the timing system's order holds.
    for a, b in pairwise(result):
        if a.laps == b.laps:
            assert a.position_before < b.position_before
