"""Conformance: every real capture, replayed, agrees with what the timing system sent."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from tests.conftest import RMONITOR, capture
from tests.timing import oracle
from tests.timing.replaying import results

RACE_DAY = [
    "road-america-2025-04-26-entries.log",
    "road-america-2025-04-26-grid.log",
    "road-america-2025-04-26-race-start.log",
]
FEEDS = [[name] for name in sorted(p.name for p in RMONITOR.glob("*.log"))] + [RACE_DAY]


def _check_session(session: dict, seen: oracle.RunSeen) -> None:
    cars = {car["registration"]: car for car in session["cars"]}
    assert set(seen.race) <= set(cars), "every car the feed ordered is classified"
    # Laps and total times: the last $G each car was sent.
    for reg, (_, laps, total, _) in seen.race.items():
        assert (cars[reg]["laps"], cars[reg]["total_time_ms"]) == (laps, total), reg
    # Best laps: the feed's $H.
    for reg, (_, lap, best, _) in seen.practice.items():
        assert (cars[reg]["best_lap"], cars[reg]["best_lap_ms"]) == (lap, best), reg
    # Final order: $G in races, $H (by best lap) in practice and qualifying.
    ours = [car["registration"] for car in session["cars"]]
    expected = oracle.race_order(seen) if session["type"] == "race" else oracle.practice_order(seen)
    assert [reg for reg in ours if reg in set(expected)] == expected
    assert [car["position"] for car in session["cars"]] == list(range(1, len(ours) + 1))
    _check_intervals(session)


def _check_intervals(session: dict) -> None:
    """Gaps and differences are consistent with total times (or best laps) and never negative."""
    cars = session["cars"]
    race = session["type"] == "race"
    by_class: dict[str, list[dict]] = {}
    for car in cars:
        by_class.setdefault(car["class"], []).append(car)
    assert [c["class_position"] for c in cars if c["class"] == cars[0]["class"]][:1] == [1]
    for group, prefix in [(cars, ""), *((g, "class_") for g in by_class.values())]:
        leader = group[0]
        assert leader[prefix + "gap_ms"] is None and leader[prefix + "difference_ms"] is None
        if prefix:
            assert [c["class_position"] for c in group] == list(range(1, len(group) + 1))
        for ahead, car in itertools.pairwise(group):
            for ref, key in ((ahead, "gap"), (leader, "difference")):
                ms, laps = car[f"{prefix}{key}_ms"], car[f"{prefix}{key}_laps"]
                assert ms is None or ms >= 0
                if not race:
                    if car["best_lap_ms"] and ref["best_lap_ms"]:
                        assert ms == car["best_lap_ms"] - ref["best_lap_ms"]
                    continue
                if ref["laps"] > car["laps"]:
                    assert (ms, laps) == (None, ref["laps"] - car["laps"])
                elif ref["laps"] == car["laps"] and ms is not None:
                    assert laps == 0
                    assert ms == car["total_time_ms"] - ref["total_time_ms"]


@pytest.mark.parametrize("names", FEEDS, ids=lambda names: "+".join(n[:24] for n in names))
def test_capture_replays_agree_with_the_feed(names: list[str]) -> None:
    paths: list[Path] = [capture(name) for name in names]
    result = results(*paths)
    seen_runs = [run for run in oracle.read_runs(*paths)]
    assert [s["run"] for s in result["sessions"]] == [r.run for r in seen_runs]
    for session, seen in zip(result["sessions"], seen_runs, strict=True):
        _check_session(session, seen)


@pytest.mark.parametrize("name", [name for (name,) in FEEDS[:-1]])
def test_no_capture_shows_a_session_without_a_run(name: str) -> None:
    assert all(s["run"] is not None for s in results(capture(name))["sessions"])


def test_full_day_yields_each_run_as_its_own_session() -> None:
    result = results(capture("road-america-2025-04-25-full-day.log"))
    runs = [(s["run"], s["name"], s["type"]) for s in result["sessions"]]
    assert runs == [
        (61, "Race Practice 1", "practice"),
        (55, "HPDE S1", "practice"),
        (62, "Race Practice 2", "practice"),
        (56, "HPDE S2", "practice"),
        (63, "Race Practice 3", "practice"),
        (57, "HPDE S3", "practice"),
        (64, "GTO/GTU Qualifying", "qualifying"),
        (58, "HPDE S4", "practice"),
        (65, "GP1/GP2/GP3", "race"),
        (59, "HPDE S5", "practice"),
        (66, "Race Practice 4", "practice"),
    ]
    assert result["errors"] == 0
    # Every run but the last was closed by the next one; each kept its own cars and flags.
    assert [s["ended"] for s in result["sessions"]] == [True] * 10 + [False]
    practice_1 = result["sessions"][0]
    assert len(practice_1["cars"]) == 43
    assert [p["flag"] for p in practice_1["flag_periods"]] == ["none", "green", "finish"]
    # The operator resets inside runs 64 and 65 did not split them.
    assert [s["resets"] for s in result["sessions"]][6:9] == [1, 0, 2]


def test_lap1_reset_keeps_last_lap_times() -> None:
    path = capture("road-america-2025-04-26-lap1-reset.log")
    result = results(path)
    (session,) = result["sessions"]
    assert session["resets"] == 1  # the relay's opening $I is before any scoreboard
    seen = oracle.read_runs(path)[0]
    cars = {car["registration"]: car for car in session["cars"]}
    checked = 0
    for reg, (lap_time, _) in seen.last_passing.items():
        if lap_time:
            assert cars[reg]["last_lap_ms"] == lap_time, reg
            checked += 1
    assert checked >= 40
    assert all(car["last_lap_ms"] is not None for car in cars.values() if car["laps"] >= 1)


def test_midrace_reset_rebuilds_the_scoreboard() -> None:
    result = results(capture("road-america-2025-04-26-midrace-reset.log"))
    (session,) = result["sessions"]
    assert session["run"] == 67
    assert session["resets"] >= 1
    assert len(session["cars"]) == 52


def test_class_change_moves_the_car() -> None:
    from tests.timing.replaying import replay
    from trackside.feeds.capture import read_records
    from trackside.timing.engine import RaceEngine
    from trackside.timing.standings import classify

    path = capture("class-change-2025-10-17.log")
    engine = RaceEngine()
    classes = []
    for item in read_records(path.read_bytes()):
        engine.apply(item.record)
        if engine.current and "55" in engine.current.cars:
            rows = classify(engine.current)
            classes.append(rows[0].class_name)
    assert classes[0] == "GP1"
    assert classes[-1] == "GP2"
    (session,) = replay(path).sessions
    assert session.run == 39 and session.type == "qualifying"


def test_race_start_worked_example() -> None:
    """The reference's hand-worked example (§6) after entries, grid and race start."""
    result = results(*(capture(name) for name in RACE_DAY))
    (session,) = result["sessions"]
    cars = {car["number"]: car for car in session["cars"]}
    leader = session["cars"][0]
    assert (leader["number"], leader["laps"], leader["total_time_ms"]) == ("2", 3, 484_554)
    c70 = cars["70"]
    assert (c70["position"], c70["laps"], c70["total_time_ms"]) == (2, 3, 485_341)
    assert (c70["gap_ms"], c70["difference_ms"]) == (787, 787)
    c149 = cars["149"]
    assert (c149["position"], c149["laps"]) == (47, 2)
    assert session["cars"][45]["number"] == "39"
    assert (c149["gap_ms"], c149["gap_laps"]) == (15_925, 0)
    assert (c149["difference_ms"], c149["difference_laps"]) == (None, 1)
    assert (c149["class"], c149["class_position"]) == ("GP2", 9)
    assert (c149["class_gap_ms"], c149["class_difference_ms"]) == (15_925, 27_411)
    class_leader = next(c for c in session["cars"] if c["class"] == "GP2")
    assert (class_leader["number"], class_leader["total_time_ms"]) == ("21", 446_271)
    # Grid order from grid.log; the start was given under yellow, then green.
    assert (c70["starting_position"], cars["2"]["starting_position"]) == (1, 2)
    assert (c70["positions_gained"], cars["2"]["positions_gained"]) == (-1, 1)
    assert [p["flag"] for p in session["flag_periods"]][-1] == "green"
    assert session["type"] == "race" and session["flag"] == "green"


def test_race_start_first_laps_by_hand() -> None:
    """Checked by hand against the capture: the order and gaps as cars 2 and 70 complete laps."""
    from trackside.feeds.capture import read_records
    from trackside.feeds.records import PracticeOrder
    from trackside.timing.engine import RaceEngine
    from trackside.timing.standings import classify

    engine = RaceEngine()
    seen: dict[int, list] = {}
    for path in (capture(name) for name in RACE_DAY):
        for item in read_records(path.read_bytes()):
            engine.apply(item.record)
            record = item.record
            # Orbits sends $J, then $G, then $H: after car 70's $H the board is whole.
            if isinstance(record, PracticeOrder) and record.registration == "70":
                laps = engine.current.cars["70"].race_laps
                if laps:
                    seen.setdefault(laps, classify(engine.current))
    lap1, lap2 = seen[1], seen[2]
    # Lap 1: car 2 led across the line at 3:19.713 (lap 2:24.594); car 70 0.463 s behind.
    assert [r.car.number for r in lap1[:2]] == ["2", "70"]
    assert (lap1[0].total_time_ms, lap1[0].last_lap_ms) == (199_713, 144_594)
    assert (lap1[1].laps, lap1[1].gap_ms, lap1[1].difference_ms) == (1, 463, 463)
    # Lap 2: 5:41.585 against 5:41.916; car 70's 2:21.740 is the fastest lap so far.
    assert [r.car.number for r in lap2[:2]] == ["2", "70"]
    assert lap2[1].gap_ms == 331
    assert lap2[1].last_lap_ms == 141_740 and lap2[1].last_lap_overall_best
    # Cars that have not crossed the line for lap 1 yet are a lap down on the leader.
    back = [r for r in lap1 if r.laps == 0]
    assert back and all(r.difference_laps == 1 for r in back)
