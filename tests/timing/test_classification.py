"""The pure rules of the official classification, on small hand-made results."""

from __future__ import annotations

from typing import Any

import pytest

from trackside.feeds import classification_records as records
from trackside.feeds.classification_records import Correction, Declaration, Withdrawal
from trackside.timing.classification import Classifications, correct


def _car(number: str, laps: int, total: int | None, best: int | None, klass: str = "GT"):
    return {
        "number": number,
        "class": klass,
        "laps": laps,
        "total_time_ms": total,
        "best_lap_ms": best,
        "position": None,
        "class_position": None,
        "gap_ms": None,
        "gap_laps": 0,
    }


RACE = [
    _car("1", 20, 1_800_000, 88_000),
    _car("2", 20, 1_805_000, 87_500, "GTU"),
    _car("3", 20, 1_820_000, 89_000),
    _car("4", 19, 1_790_000, 90_000, "GTU"),
]


def _fix(id: int, car: str, kind: Any, **values: Any) -> Correction:
    return Correction(id, 0, "steward", 1_000 * id, car=car, kind=kind, reason="r", **values)


def _order(cars: list[dict[str, Any]]) -> list[str]:
    return [car["number"] for car in cars]


def test_without_corrections_the_feed_order_stands() -> None:
    cars = correct(RACE, [], race=True)
    assert _order(cars) == ["1", "2", "3", "4"]
    assert all(car["status"] is None and car["penalty_ms"] == 0 for car in cars)
    assert RACE[0].get("status") is None and "corrections" not in RACE[0]  # input untouched


def test_a_time_penalty_reorders_cars_on_the_same_laps_only() -> None:
    cars = correct(RACE, [_fix(1, "1", "time_penalty", ms=30_000)], race=True)
    assert _order(cars) == ["2", "3", "1", "4"]
    one = cars[2]
    assert (one["total_time_ms"], one["penalty_ms"], one["corrections"]) == (1_830_000, 30_000, [1])
    # gap: to the car ahead; difference: to the leader (the engine's meaning)
    assert [c["gap_ms"] for c in cars[:3]] == [None, 15_000, 10_000]
    assert [c["difference_ms"] for c in cars[:3]] == [None, 15_000, 25_000]
    assert (cars[3]["gap_ms"], cars[3]["gap_laps"]) == (None, 1)  # a lap down stays behind
    huge = correct(RACE, [_fix(1, "2", "time_penalty", ms=600_000)], race=True)
    assert _order(huge) == ["1", "3", "2", "4"]


def test_lap_corrections_move_a_car_across_laps() -> None:
    down = correct(RACE, [_fix(1, "1", "laps", laps=-1)], race=True)
    assert _order(down) == ["2", "3", "4", "1"]  # 19 laps, slower total than car 4
    up = correct(RACE, [_fix(1, "4", "laps", laps=1)], race=True)
    assert _order(up) == ["4", "1", "2", "3"]
    assert up[0]["lap_correction"] == 1


def test_disqualified_and_excluded_cars_are_listed_last_without_a_position() -> None:
    cars = correct(RACE, [_fix(1, "1", "disqualify"), _fix(2, "3", "exclude")], race=True)
    assert _order(cars) == ["2", "4", "1", "3"]
    assert [c["status"] for c in cars] == [None, None, "DSQ", "EXCL"]
    assert [c["position"] for c in cars] == [1, 2, None, None]
    assert cars[2]["gap_ms"] is None and cars[3]["class_position"] is None
    assert (cars[0]["gap_ms"], cars[1]["gap_laps"], cars[1]["difference_laps"]) == (None, 1, 1)


def test_a_class_change_renumbers_the_classes() -> None:
    cars = correct(RACE, [_fix(1, "3", "class", class_name="GTU")], race=True)
    assert _order(cars) == ["1", "2", "3", "4"]
    assert [(c["class"], c["class_position"]) for c in cars] == [
        ("GT", 1),
        ("GTU", 1),
        ("GTU", 2),
        ("GTU", 3),
    ]
    assert cars[2]["class_gap_ms"] == 15_000


def test_practice_keeps_its_best_lap_order() -> None:
    practice = sorted(RACE, key=lambda c: c["best_lap_ms"])
    cars = correct(practice, [_fix(1, "2", "time_penalty", ms=5_000)], race=False)
    assert _order(cars) == ["2", "1", "3", "4"]
    assert cars[0]["penalty_ms"] == 5_000
    gone = correct(practice, [_fix(1, "2", "exclude")], race=False)
    assert _order(gone) == ["1", "3", "4", "2"]
    assert [c["gap_ms"] for c in gone[:3]] == [None, 1_000, 1_000]
    assert [c["difference_ms"] for c in gone[:3]] == [None, 1_000, 2_000]


def test_a_correction_for_a_car_not_in_the_session_waits() -> None:
    cars = correct(RACE, [_fix(1, "99", "disqualify")], race=True)
    assert _order(cars) == ["1", "2", "3", "4"]


def test_declarations_freeze_versions_and_corrections_reopen_them() -> None:
    book = Classifications()
    standing = [RACE]

    def classify(index: int, fixes: Any) -> list[dict[str, Any]]:
        assert index == 0
        return correct(standing[0], fixes, race=True)

    assert (book.of(0).status, book.of(0).revision) == ("provisional", 0)
    assert book.apply(Declaration(1, 0, "ann", 10), classify) is None
    assert (book.of(0).status, book.of(0).revision) == ("official", 1)
    assert book.apply(_fix(2, "1", "disqualify"), classify) is None
    assert book.of(0).status == "provisional"
    standing[0] = RACE[:3]  # the feed changes after the correction: the version does not
    book.apply(Declaration(3, 0, "bo", 30), classify)
    first, second = book.of(0).versions
    assert _order(list(first.cars)) == ["1", "2", "3", "4"] and first.declared_by == "ann"
    assert _order(list(second.cars)) == ["2", "3", "1"] and second.corrections[0].id == 2
    assert book.apply(Withdrawal(4, 0, "bo", 40, 2), classify) is None
    assert book.of(0).active == [] and book.of(0).status == "provisional"
    assert "no correction 2" in (book.apply(Withdrawal(5, 0, "bo", 50, 2), classify) or "")
    assert "no correction 9" in (book.apply(Withdrawal(6, 0, "bo", 60, 9), classify) or "")
    assert book.of(0).revision == 2 and book.of(1).revision == 0


@pytest.mark.parametrize(
    "record",
    [
        Declaration(1, 0, "ann", 5),
        _fix(2, "7", "time_penalty", ms=1_000),
        _fix(3, "7", "class", class_name="GTU"),
        Withdrawal(4, 2, "client-1", 9, 2, "protest upheld"),
    ],
)
def test_records_survive_the_log(record: records.ClassificationRecord) -> None:
    assert records.decode(records.encode(record)) == record


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("nope", "not JSON"),
        ("[1]", "not a JSON object"),
        ('{"action": "declare", "id": 1, "session": 0, "by": "a"}', "at_ms"),
        ('{"action": "shout", "id": 1, "session": 0, "by": "a", "at_ms": 1}', "unknown action"),
        (
            '{"action": "correct", "id": 1, "session": 0, "by": "a", "at_ms": 1, "kind": "x"}',
            "unknown correction kind",
        ),
    ],
)
def test_bad_records_say_why(text: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        records.decode(text)
