"""GPS timing, pure: crossing times interpolated between fixes, splits and positions."""

from __future__ import annotations

import math

import pytest

from trackside.feeds import checkpoint_records, registry
from trackside.feeds.checkpoint_records import CheckpointCrossing
from trackside.timing.checkpoints import (
    CHECKPOINT_SESSION,
    EARTH_RADIUS_M,
    Circle,
    Line,
    TrackPoint,
    crossing_time,
    crossings,
    standings,
)
from trackside.timing.results import engine_result
from trackside.timing.scorer import Scorer

LAT0, LON0 = 52.0, 21.0
METRE = math.degrees(1 / EARTH_RADIUS_M)  # degrees of latitude per metre


def north(metres: float, east_m: float = 0.0) -> tuple[float, float]:
    return (LAT0 + metres * METRE, LON0 + east_m * METRE / math.cos(math.radians(LAT0)))


def track(speed: float, start_s: float, every_s: float, until_s: float, wobble_m: float = 0.0):
    """Due north at a steady speed, a fix every ``every_s``, a little sideways wobble."""
    points = []
    t = start_s
    i = 0
    while t <= until_s:
        lat, lon = north(speed * (t - start_s), wobble_m * (-1) ** i)
        points.append(TrackPoint(round(t * 1000), lat, lon))
        t += every_s
        i += 1
    return points


START = Line("Start", north(100, -30), north(100, 30))
HILL = Circle("Hill", north(600), 50)
FINISH = Line("Finish", north(1000, 30), north(1000, -30))  # drawn the other way: no matter


def test_line_and_circle_crossings_are_interpolated() -> None:
    p, q = TrackPoint(0, *north(90)), TrackPoint(4000, *north(110))
    assert crossing_time(START, p, q) == 2000
    assert crossing_time(START, q, p) is None  # time runs backwards: not a crossing
    # Entering the circle at 550 m, between fixes at 500 m and 580 m.
    a, b = TrackPoint(10_000, *north(500)), TrackPoint(18_000, *north(580))
    assert crossing_time(HILL, a, b) == pytest.approx(15_000, abs=5)
    inside, out = TrackPoint(0, *north(600)), TrackPoint(1000, *north(700))
    assert crossing_time(HILL, inside, out) is None  # leaving is not entering
    # Fixes on both sides of the circle, none inside: the track passed through it at 550 m.
    before, after = TrackPoint(0, *north(500)), TrackPoint(20_000, *north(700))
    assert crossing_time(HILL, before, after) == pytest.approx(5_000, abs=5)
    wide = TrackPoint(0, *north(500, 60)), TrackPoint(20_000, *north(700, 60))
    assert crossing_time(HILL, *wide) is None  # 60 m to the side of a 50 m circle
    beside = Line("Beside", north(100, 40), north(100, 80))
    assert crossing_time(beside, p, q) is None  # passes the line's end


def test_a_track_gives_the_splits_within_a_second() -> None:
    course = [START, HILL, FINISH]
    fast = crossings(1, "ana", course, track(5.0, 0, 7, 230, wobble_m=3))
    slow = crossings(2, "ben", course, track(4.0, 30, 9, 320, wobble_m=3))
    assert [c.checkpoint for c in fast] == ["Start", "Hill", "Finish"]
    truth = {"Start": 20_000, "Hill": 110_000, "Finish": 200_000}
    for crossing in fast:
        assert abs(crossing.time_ms - truth[crossing.checkpoint]) <= 1000, crossing
    table = standings(["Start", "Hill", "Finish"], [*slow, *fast])
    assert [s.name for s in table] == ["ana", "ben"]
    assert [s.position for s in table] == [1, 2]
    ana, ben = table
    assert [round(s.elapsed_ms / 1000, 1) for s in ana.splits] == pytest.approx([0, 90, 180], abs=1)
    assert ben.elapsed_ms == pytest.approx(225_000, abs=1000)  # 900 m at 4 m/s


def test_positions_count_checkpoints_reached_first() -> None:
    records = [
        CheckpointCrossing(1, "ana", "Start", 0),
        CheckpointCrossing(1, "ana", "Hill", 100_000),
        CheckpointCrossing(2, "ben", "Start", 5_000),
        CheckpointCrossing(2, "ben", "Hill", 60_000),
        CheckpointCrossing(2, "ben", "Finish", 500_000),
        CheckpointCrossing(3, "cy", "Hill", 50_000),  # no start: reached nothing
        # A second pass over the start before leaving restarts the clock.
        CheckpointCrossing(4, "dan", "Start", 0),
        CheckpointCrossing(4, "dan", "Start", 30_000),
        CheckpointCrossing(4, "dan", "Hill", 80_000),
    ]
    table = standings(["Start", "Hill", "Finish"], records)
    assert [(s.name, s.reached, s.elapsed_ms) for s in table] == [
        ("ben", 3, 495_000),
        ("dan", 2, 50_000),
        ("ana", 2, 100_000),
        ("cy", 0, None),
    ]


def test_records_round_trip_and_bad_ones_are_refused() -> None:
    for record in (
        CheckpointCrossing(7, "ana", "Hill", 1_748_772_000_123),
        CheckpointCrossing(7, "ana", "Hill", 1_748_772_000_123, 1),
    ):
        assert checkpoint_records.decode(checkpoint_records.encode(record)) == record
    for bad in ("", "[]", '{"p": 1}', '{"p": "x", "n": "a", "c": "b", "t": 1}'):
        with pytest.raises(ValueError):
            checkpoint_records.decode(bad)


def test_the_scorer_times_a_checkpoint_session_as_standings_do() -> None:
    """Crossings through the registry and the scorer: one session beside the feed's, its cars
    in the standings' order, splits as sectors; the course from the places records carry."""
    course = ["Start", "Hill", "Finish"]
    records = [
        CheckpointCrossing(3, "cy", "Hill", 50_000, 1),  # Hill before any start is known
        CheckpointCrossing(1, "ana", "Start", 0, 0),
        CheckpointCrossing(2, "ben", "Start", 5_000, 0),
        CheckpointCrossing(2, "ben", "Hill", 60_000, 1),
        CheckpointCrossing(1, "ana", "Hill", 100_000, 1),
        CheckpointCrossing(2, "ben", "Finish", 500_000, 2),
    ]
    scorer = Scorer()
    for record in records:
        (decoded,) = registry.decode("checkpoint", checkpoint_records.encode(record)).records
        scorer.apply(decoded)
    assert scorer.checkpoints.course == course
    (session,) = engine_result(scorer)["sessions"]
    assert session["name"] == CHECKPOINT_SESSION
    want = standings(course, records)
    assert [(c["first_name"], c["position"]) for c in session["cars"]] == [
        (s.name, s.position) for s in want
    ]
    ben = session["cars"][0]
    assert (ben["laps"], ben["total_time_ms"], ben["last_loop"]) == (2, 495_000, "Finish")
    assert ben["sectors"] == [
        {"from": "Start", "to": "Hill", "time_ms": 55_000},
        {"from": "Start", "to": "Finish", "time_ms": 495_000},
    ]
    assert scorer.revision(0) == len(records)


def test_records_without_a_place_take_the_order_first_crossed() -> None:
    scorer = Scorer()
    for record in (
        CheckpointCrossing(1, "ana", "Start", 0),
        CheckpointCrossing(1, "ana", "Hill", 100_000),
        CheckpointCrossing(2, "ben", "Start", 5_000),
    ):
        scorer.apply(record)
    assert scorer.checkpoints.course == ["Start", "Hill"]
    assert [s.name for s in scorer.checkpoints.standings()] == ["ana", "ben"]
