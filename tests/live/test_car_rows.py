"""The live board's re-use: what did not change keeps its objects, and the bytes never differ."""

from __future__ import annotations

import orjson
import pytest

from tests.conftest import capture
from tests.live.feeding import Feed, capture_records
from trackside.feeds.rmonitor import parse_lines
from trackside.live.car_rows import CarRows
from trackside.live.snapshot import build_snapshot
from trackside.timing.results import CAR_FIELDS

RACE = [
    '$I,"13:00:00.000","26 Apr 25"',
    '$B,5,"Sprint Race"',
    '$C,1,"GT"',
    '$A,"1","1",1001,"Team One","Ann Able","USA",1',
    '$A,"2","2",1002,"Team Two","Bob Baker","USA",1',
    '$A,"3","3",1003,"Team Three","Cy Cole","USA",1',
    '$F,9999,"00:20:00","13:00:00","00:00:00","Green "',
    '$J,"1","00:00:00.000","00:00:30.000"',
    '$J,"2","00:00:00.000","00:00:31.000"',
    '$J,"3","00:00:00.000","00:00:33.000"',
    '$J,"1","00:01:30.000","00:02:00.000"',
    '$G,1,"1",1,"00:02:00.000"',
    '$J,"2","00:01:30.000","00:02:01.000"',
    '$G,2,"2",1,"00:02:01.000"',
    '$J,"3","00:01:30.000","00:02:03.000"',
    '$G,3,"3",1,"00:02:03.000"',
]


def _heartbeat(race_time: str) -> str:
    return f'$F,9999,"00:15:00","13:05:00","{race_time}","Green "'


def _cars(feed: Feed) -> list[dict]:
    return feed.live.snapshot["sessions"][0]["cars"]


def _same_bytes_as_a_fresh_build(feed: Feed) -> bool:
    return orjson.dumps(feed.builder.build()) == orjson.dumps(build_snapshot(feed.engine))


def test_a_heartbeat_that_turns_no_car_stale_keeps_the_cars_list() -> None:
    feed = Feed().run(list(parse_lines(RACE)))
    before = _cars(feed)
    message = feed.apply(parse_lines([_heartbeat("00:02:30")]))
    assert message is not None  # the clock moved
    assert _cars(feed) is before
    assert "cars" not in message.data.decode()
    assert _same_bytes_as_a_fresh_build(feed)


def test_the_clock_alone_turns_a_car_stale() -> None:
    """Car 3 stops crossing: two of its laps later it is stale, with no record of its own."""
    feed = Feed().run(list(parse_lines(RACE)))
    feed.run(list(parse_lines([_heartbeat("00:03:30"), '$J,"1","00:01:30.000","00:03:30.000"'])))
    feed.run(list(parse_lines(['$G,1,"1",2,"00:03:30.000"', _heartbeat("00:04:50")])))
    assert [car["stale"] for car in _cars(feed)] == [False, False, False]
    feed.apply(parse_lines([_heartbeat("00:05:10")]))  # car 3: 3:07 since it crossed
    assert [car["stale"] for car in _cars(feed)] == [False, True, True]
    assert _same_bytes_as_a_fresh_build(feed)


def test_a_crossing_builds_only_the_cars_it_changed() -> None:
    feed = Feed().run(list(parse_lines(RACE)))
    before = {car["registration"]: car for car in _cars(feed)}
    feed.run(list(parse_lines(['$J,"3","00:01:40.000","00:03:43.000"'])))
    after = {car["registration"]: car for car in _cars(feed)}
    assert after["1"] is before["1"]
    assert after["2"] is before["2"]
    assert after["3"] is not before["3"]
    assert after["3"]["last_lap_ms"] == 100_000
    assert _same_bytes_as_a_fresh_build(feed)


def test_a_value_that_json_writes_apart_gets_a_new_dict() -> None:
    """``1``, ``1.0`` and ``True`` are equal to Python, not on the wire."""
    rows = CarRows()
    values = ["x"] * len(CAR_FIELDS)
    values[CAR_FIELDS.index("registration")] = "7"
    at = CAR_FIELDS.index("position")
    values[at] = 1
    first = rows(tuple(values))
    assert rows(tuple(values)) is first
    for other in (True, 1.0):
        values[at] = other
        row = rows(tuple(values))
        assert row is not first
        assert type(row["position"]) is type(other)


@pytest.mark.parametrize(
    ("name", "batch"),
    [
        ("road-america-2025-04-26-lap1-reset.log", 1),
        ("road-america-2025-04-26-midrace-reset.log", 1),
        ("barber-2025-03-01-finish-clock-stopped.log", 2),
    ],
)
def test_every_build_has_the_bytes_of_a_fresh_one(name: str, batch: int) -> None:
    """Resets, refreshes, the finish: whatever the builder keeps, it serializes alike."""
    records = capture_records(capture(name))
    feed = Feed()
    for start in range(0, len(records), batch):
        for record in records[start : start + batch]:
            feed.engine.apply(record)
        assert _same_bytes_as_a_fresh_build(feed), start
