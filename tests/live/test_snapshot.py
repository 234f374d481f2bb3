"""The live snapshot: the replay JSON of every session, addressed by index, heartbeat included."""

from __future__ import annotations

from tests.conftest import capture
from tests.live.feeding import capture_records
from trackside.feeds.rmonitor import parse_lines
from trackside.live.snapshot import SnapshotBuilder, build_snapshot, current_index
from trackside.timing.engine import RaceEngine
from trackside.timing.results import engine_result


def _engine(lines: list[str]) -> RaceEngine:
    engine = RaceEngine()
    engine.apply_all(parse_lines(lines))
    return engine


def test_sessions_match_the_replay_json_with_their_heartbeat() -> None:
    engine = RaceEngine()
    engine.apply_all(capture_records(capture("road-america-2025-04-26-race-start.log")))
    snapshot = build_snapshot(engine)
    replay = engine_result(engine)["sessions"]
    assert snapshot["current"] == 0
    (session,) = snapshot["sessions"]
    expected = {k: v for k, v in replay[0].items() if k != "records"}
    assert session == expected
    assert session["flag"] == "green"
    assert session["laps_to_go"] is None  # the feed's 9999: no lap limit
    assert session["time_to_go_ms"] > 7 * 3_600_000
    assert session["race_time_ms"] > 0 and session["time_of_day_ms"] is not None
    car = session["cars"][0]
    assert {"registration", "position", "laps", "last_lap_ms", "gap_ms", "stale"} <= set(car)


def test_an_empty_board_is_a_session_without_cars() -> None:
    engine = _engine(['$B,7,"Race"', '$F,9999,"00:10:00","12:00:00","00:00:00","      "'])
    (session,) = build_snapshot(engine)["sessions"]
    assert (session["run"], session["cars"], session["flag"]) == (7, [], "none")


def test_current_is_none_between_runs_and_sessions_keep_their_index() -> None:
    engine = _engine(['$B,7,"Race"', '$A,"1","1",1,"A","B","",1', '$B,95,"Race"'])
    assert current_index(engine) is None
    engine.apply_all(parse_lines(['$B,8,"Practice 2"', '$A,"2","2",2,"C","D","",1']))
    snapshot = SnapshotBuilder(engine).build()
    assert snapshot["current"] == 1
    assert [(s["run"], s["ended"]) for s in snapshot["sessions"]] == [(7, True), (8, False)]


def test_builder_reuses_finished_sessions_only() -> None:
    engine = _engine(['$B,7,"Race"', '$A,"1","1",1,"A","B","",1', '$B,8,"Race 2"'])
    builder = SnapshotBuilder(engine)
    first = builder.build()
    engine.apply_all(parse_lines(['$A,"2","2",2,"C","D","",1']))
    second = builder.build()
    assert second["sessions"][0] is first["sessions"][0]  # over: built once
    assert second["sessions"][1] is not first["sessions"][1]
    assert [c["registration"] for c in second["sessions"][1]["cars"]] == ["2"]
    assert second == build_snapshot(engine)
