"""Engine behaviour on hand-written feeds: session boundaries, resets, corrections, flags."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from trackside.feeds.rmonitor import parse_lines
from trackside.timing.engine import RaceEngine
from trackside.timing.results import engine_result
from trackside.timing.session import guess_session_type


def run(*lines: str) -> RaceEngine:
    engine = RaceEngine()
    for record in parse_lines(lines):
        engine.apply(record)
    return engine


def cars(engine: RaceEngine, index: int = -1) -> dict[str, dict]:
    session = engine_result(engine)["sessions"][index]
    return {car["registration"]: car for car in session["cars"]}


ENTRY = [
    '$B,5,"Race 2"',
    '$C,1,"GT3"',
    '$C,2,"GT4"',
    '$A,"1","1",111,"Alpha","Racing","",1',
    '$A,"2","2",222,"Bravo","","",1',
    '$A,"3","3",333,"Charlie","","",2',
    '$G,1,"1",,"00:00:00.000"',
    '$G,2,"2",,"00:00:00.000"',
    '$G,3,"3",,"00:00:00.000"',
    '$F,10,"00:00:00","14:00:00","00:00:00","Green "',
]


def lap(reg: str, position: int, laps: int, lap_ms: str, total: str) -> list[str]:
    return [f'$J,"{reg}","{lap_ms}","{total}"', f'$G,{position},"{reg}",{laps},"{total}"']


def test_session_types_from_names() -> None:
    assert guess_session_type("Race Practice 1") == "practice"
    assert guess_session_type("GTO/GTU Qualifying") == "qualifying"
    assert guess_session_type("HPDE S1") == "practice"
    assert guess_session_type("Saturday 8 Hour") == "race"
    assert guess_session_type("Feature") == "race"
    assert guess_session_type("FP2") == "practice"


def test_laps_gaps_and_positions_gained() -> None:
    engine = run(
        *ENTRY,
        *lap("2", 1, 1, "00:01:40.000", "00:01:45.000"),
        *lap("1", 2, 1, "00:01:41.500", "00:01:46.500"),
        *lap("3", 3, 0, "00:00:00.000", "00:01:50.000"),  # start-line crossing only
        *lap("2", 1, 2, "00:01:39.000", "00:03:24.000"),
        *lap("1", 2, 2, "00:01:38.000", "00:03:24.500"),
    )
    result = cars(engine)
    leader, second, third = result["2"], result["1"], result["3"]
    assert (leader["position"], leader["laps"], leader["best_lap_ms"], leader["best_lap"]) == (
        1,
        2,
        99_000,
        2,
    )
    assert leader["gap_ms"] is None and leader["positions_gained"] == 1
    assert (second["gap_ms"], second["difference_ms"], second["last_lap_ms"]) == (500, 500, 98_000)
    assert second["overall_best"] and second["last_lap_overall_best"]
    assert (third["laps"], third["gap_laps"], third["difference_laps"]) == (0, 2, 2)
    assert third["gap_ms"] is None
    assert (third["class"], third["class_position"], third["class_gap_ms"]) == ("GT4", 1, None)
    assert leader["most_positions_gained"] and not second["most_positions_gained"]


def test_duplicate_passing_is_one_lap_corrected() -> None:
    engine = run(
        *ENTRY,
        '$J,"1","00:02:26.423","00:03:55.939"',
        '$J,"1","00:02:26.421","00:03:55.937"',
        '$G,1,"1",1,"00:03:55.937"',
    )
    car = engine.current.cars["1"]
    assert [(lp.number, lp.lap_time_ms) for lp in car.laps] == [(1, 146_421)]


def test_out_of_step_update_never_gives_a_negative_gap() -> None:
    engine = run(
        *ENTRY,
        *lap("1", 1, 1, "00:01:40.000", "00:01:45.000"),
        *lap("2", 2, 1, "00:01:40.300", "00:01:45.300"),
    )
    assert cars(engine)["2"]["gap_ms"] == 300  # shown once
    # Car 2 passes car 1 on the line; its $G arrives before car 1's.
    for record in parse_lines(['$G,1,"2",1,"00:01:45.300"']):
        engine.apply(record)
    shown = cars(engine)["1"]
    assert shown["position"] == 2
    assert shown["gap_ms"] is None or shown["gap_ms"] >= 0


def test_run_95_closes_the_session_and_a_new_number_opens_one() -> None:
    engine = run(
        *ENTRY,
        *lap("1", 1, 1, "00:01:40.000", "00:01:45.000"),
        '$F,0,"00:00:00","14:10:00","00:10:00","Finish"',
        '$B,95,"Race 2"',
        '$F,0,"00:00:00","14:10:05","00:00:00","      "',
        '$I,"14:20:00","12 jan 25"',
        '$I,"14:20:00","12 jan 25"',
        '$F,9999,"00:20:00","14:20:01","00:00:00","      "',
        '$B,6,"Race 3"',
        '$A,"9","9",999,"Nine","","",1',
    )
    first, second = engine.sessions
    assert (first.run, first.ended, first.heart.flag) == (5, True, "finish")
    assert [p.flag for p in first.flag_periods] == ["green", "finish"]
    assert len(first.cars) == 3  # the next run's $I did not wipe the finished one
    assert (second.run, second.name, list(second.cars)) == (6, "Race 3", ["9"])
    assert second.heart.time_to_go_ms == 20 * 60_000  # the held heartbeat went to the new run


def test_reset_with_refresh_rebuilds_without_losing_laps() -> None:
    engine = run(
        *ENTRY,
        *lap("1", 1, 1, "00:01:40.000", "00:01:45.000"),
        *lap("2", 2, 1, "00:01:41.000", "00:01:46.000"),
        '$I,"14:05:00","12 jan 25"',
        '$A,"1","1",111,"Alpha","Racing","",1',
        '$A,"2","2",222,"Bravo","","",1',
        '$G,1,"1",1,"00:01:45.000"',
        '$G,2,"2",1,"00:01:46.000"',
    )
    result = cars(engine)
    assert set(result) == {"1", "2"}  # car 3 was not in the refresh
    assert result["1"]["last_lap_ms"] == 100_000
    assert result["2"]["last_lap_ms"] == 101_000
    assert engine.current.resets == 1


def test_reset_without_refresh_keeps_the_board() -> None:
    engine = run(
        *ENTRY,
        *lap("1", 1, 1, "00:01:40.000", "00:01:45.000"),
        *lap("2", 2, 1, "00:01:41.000", "00:01:46.000"),
        '$I, "00:00:00", "0/0/0000"',
        *lap("1", 1, 2, "00:01:40.000", "00:03:25.000"),
    )
    assert set(cars(engine)) == {"1", "2", "3"}


def test_correction_applies_to_total_time() -> None:
    engine = run(
        *ENTRY,
        *lap("1", 1, 1, "00:01:40.000", "00:01:45.000"),
        '$COR,"1","1",1,"00:01:45.012","+00:00:00.012"',
        '$G,1,"1",1,"00:01:45.000"',  # the uncorrected value re-sent in a refresh
    )
    car = cars(engine)["1"]
    assert (car["total_time_ms"], car["correction_ms"]) == (105_012, 12)


def test_flag_periods_and_late_heartbeats() -> None:
    engine = run(
        '$B,7,"Feature"',
        '$F,9999,"00:30:00","14:00:00","00:00:00","Yellow"',
        '$F,9999,"00:29:50","14:00:10","00:00:10","Green "',
        '$F,9999,"00:20:00","14:10:00","00:10:00","Yellow"',
        '$F,9999,"00:20:03","14:09:57","00:09:57","Green "',  # logged 3 s late by the relay
        '$F,9999,"00:18:00","14:12:00","00:12:00","Green "',
        '$F,9999,"00:00:00","14:30:00","00:30:00","Finish"',
        '$F,9999,"00:00:00","14:35:00","00:00:00","Finish"',  # clock falls back after finish
    )
    session = engine_result(engine)["sessions"][0]
    periods = [(p["flag"], p["start_ms"], p["end_ms"]) for p in session["flag_periods"]]
    assert periods == [
        ("yellow", 0, 10_000),
        ("green", 10_000, 600_000),
        ("yellow", 600_000, 720_000),
        ("green", 720_000, 1_800_000),
        ("finish", 1_800_000, None),
    ]
    assert session["race_time_ms"] == 1_800_000


def test_stale_car() -> None:
    engine = run(
        *ENTRY,
        *lap("1", 1, 1, "00:01:40.000", "00:01:45.000"),
        *lap("2", 2, 1, "00:01:41.000", "00:01:46.000"),
        *lap("1", 1, 2, "00:01:40.000", "00:03:25.000"),
        '$F,10,"00:00:00","14:06:00","00:06:00","Green "',
    )
    result = cars(engine)
    # Car 2 last crossed at 1:46 with 1:41 laps: 4:14 later it is stale; car 1 (3:25) not yet.
    assert result["2"]["stale"] and not result["1"]["stale"]


def test_class_change_mid_session_moves_the_car() -> None:
    engine = run(*ENTRY, '$COMP,"2","2",2,"Bravo","","",""')
    result = cars(engine)
    assert (result["2"]["class"], result["2"]["class_position"]) == ("GT4", 1)
    assert result["3"]["class_position"] == 2


def test_practice_orders_by_best_lap() -> None:
    engine = run(
        '$B,9,"Practice 1"',
        '$A,"1","1",111,"Alpha","","",1',
        '$A,"2","2",222,"Bravo","","",1',
        *lap("1", 1, 3, "00:01:40.000", "00:05:00.000"),
        '$H,2,"1",2,"00:01:39.000"',
        '$H,1,"2",1,"00:01:38.500"',
    )
    session = engine_result(engine)["sessions"][0]
    assert session["type"] == "practice"
    assert [c["registration"] for c in session["cars"]] == ["2", "1"]
    assert session["cars"][1]["gap_ms"] == 500
    assert session["cars"][1]["positions_gained"] is None


def test_bad_records_are_counted_and_kept_never_raised() -> None:
    engine = run(*ENTRY, "garbage", '$G,x,"1",1,"00:01:00.000"', "$ZZ,1")
    assert (engine.errors, engine.unknown) == (2, 1)
    assert [e.raw for e in engine.kept_errors] == ["garbage", '$G,x,"1",1,"00:01:00.000"']
    assert engine.records == len(ENTRY) + 3


REAL_LINES = [
    *ENTRY,
    '$B,95,"Race 2"',
    '$B,6,"Practice"',
    '$I, "00:00:00", "0/0/0000"',
    '$J,"1","00:01:40.000","00:01:45.000"',
    '$J,"2","00:00:00.000","00:00:55.000"',
    '$G,1,"2",2,"00:03:24.000"',
    '$G,1,"1",-3,"00:03:24.000"',
    '$H,1,"3",2,"00:01:39.000"',
    '$COR,"1","1",2,"00:03:25.000","-00:00:01.000"',
    '$C,2,"GT4 Pro"',
    '$COMP,"3","3",1,"","","",""',
    '$F,0,"00:00:00","14:10:00","00:10:00","Finish"',
    '$F,9999,"00:00:00","14:10:00","00:00:-5","Red   "',
    "garbage",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(REAL_LINES), max_size=60))
def test_any_sequence_of_records_scores_without_raising(lines: list[str]) -> None:
    engine = run(*lines)
    result = engine_result(engine)
    for session in result["sessions"]:
        positions = [car["position"] for car in session["cars"]]
        assert positions == list(range(1, len(positions) + 1))
        for car in session["cars"]:
            for key in ("gap_ms", "difference_ms", "class_gap_ms", "class_difference_ms"):
                assert car[key] is None or car[key] >= 0
