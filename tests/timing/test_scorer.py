"""The scorer: RMonitor, loop passings and the race-control log combined, in log order."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import DATA
from tests.timing.test_engine import ENTRY, lap
from trackside.feeds.checkpoint_records import CheckpointCrossing
from trackside.feeds.controllog import changes, parse_control_log
from trackside.feeds.controllog_records import ControlLogRecord
from trackside.feeds.p3 import read_hex_capture
from trackside.feeds.p3_records import P3Passing
from trackside.feeds.rmonitor import parse_lines
from trackside.live.snapshot import SnapshotBuilder, build_snapshot
from trackside.timing.loops import Loop, LoopCrossing, LoopKind, LoopLayout
from trackside.timing.passing_laps import PASSINGS_SESSION, EntryInfo
from trackside.timing.results import engine_result
from trackside.timing.scorer import Scorer

AMB = DATA / "p3" / "amb.out"
AMB_DECODER = 0x00041813
PIT_IN, PIT_OUT, SF, T5 = 11, 12, 13, 14
PIT_LOOPS = LoopLayout(
    [Loop("Pit In", LoopKind.PIT_IN, PIT_IN), Loop("Pit Out", LoopKind.PIT_OUT, PIT_OUT)]
)
FULL_LOOPS = LoopLayout(
    [
        Loop("SF", LoopKind.START_FINISH, SF),
        Loop("T5", LoopKind.SECTOR, T5),
        Loop("Pit In", LoopKind.PIT_IN, PIT_IN),
        Loop("Pit Out", LoopKind.PIT_OUT, PIT_OUT),
    ]
)
KARTS = [
    EntryInfo("7", "5691251", driver="Ana", team="Kart Club", class_name="Rental"),
    EntryInfo("2", "3292480", driver="Bo"),
    EntryInfo("161", "3438895", driver="Cy", class_name="Rental"),
]


def feed(scorer: Scorer, *lines: str) -> None:
    scorer.apply_all(parse_lines(lines))


def cars(scorer: Scorer, index: int = -1) -> dict[str, dict]:
    session = engine_result(scorer)["sessions"][index]
    return {car["number"]: car for car in session["cars"]}


def cross(scorer: Scorer, transponder: str, time_ms: int, decoder: int) -> None:
    scorer.apply(LoopCrossing(transponder, time_ms, decoder))


@pytest.fixture(scope="module")
def amb() -> list[P3Passing]:
    if not AMB.exists():  # pragma: no cover - the suite needs shared/ beside the checkout
        pytest.fail(f"capture missing: {AMB}")
    return [r for r in read_hex_capture(AMB.read_text()) if isinstance(r, P3Passing)]


# ---------------------------------------------------------------------------- RMonitor + loops


def test_pit_loops_add_pit_fields_to_rmonitor_cars() -> None:
    scorer = Scorer(layout=PIT_LOOPS)
    feed(scorer, *ENTRY, *lap("1", 1, 1, "00:01:40.000", "00:01:45.000"))
    # Car 1's transponder (111, from its $A) enters the pit lane during lap 2.
    cross(scorer, "111", 1_000_000, PIT_IN)
    car = cars(scorer)["1"]
    assert (car["in_pit"], car["entered_pit"], car["last_loop"], car["pit_stops"]) == (
        True,
        True,
        "Pit In",
        1,
    )
    cross(scorer, "111", 1_045_500, PIT_OUT)
    car = cars(scorer)["1"]
    assert (car["in_pit"], car["exited_pit"], car["last_lap_pit"]) == (False, True, False)
    assert (car["pit_time_ms"], car["last_pit_time_ms"]) == (45_500, 45_500)
    # The $J that ends lap 2 settles "last lap included a pit stop" and starts lap 3.
    feed(scorer, *lap("1", 1, 2, "00:02:30.000", "00:04:15.000"))
    car = cars(scorer)["1"]
    assert (car["last_lap_pit"], car["entered_pit"], car["exited_pit"]) == (True, False, False)
    # The same crossing re-sent with a corrected time is no new lap.
    feed(scorer, '$J,"1","00:02:30.010","00:04:15.010"')
    assert cars(scorer)["1"]["last_lap_pit"] is True
    feed(scorer, *lap("1", 1, 3, "00:01:40.000", "00:05:55.000"))
    assert cars(scorer)["1"]["last_lap_pit"] is False
    # RMonitor stays the truth for order and laps; other cars stay neutral.
    assert [c["laps"] for c in cars(scorer).values()] == [3, 0, 0]
    assert cars(scorer)["2"]["pit_stops"] == 0 and cars(scorer)["2"]["last_loop"] == ""


def test_event_entries_map_transponders_and_the_feed_wins() -> None:
    scorer = Scorer(layout=PIT_LOOPS, entries=[EntryInfo("3", "999"), EntryInfo("2", "111")])
    cross(scorer, "999", 1_000, PIT_IN)  # no session yet, and no line loop to open one
    assert scorer.loop_counts.no_session == 1 and scorer.sessions == []
    feed(scorer, *ENTRY)  # $A maps 111 to car 1 (the entry list said car 2)
    cross(scorer, "999", 2_000, PIT_IN)
    cross(scorer, "111", 3_000, PIT_IN)
    cross(scorer, "555", 4_000, PIT_IN)  # mapped by nobody
    found = cars(scorer)
    assert found["3"]["in_pit"] and found["1"]["in_pit"] and not found["2"]["in_pit"]
    assert sorted(scorer.extras(0).loops) == ["1", "3", "Tx555"]


def test_start_finish_and_sector_loops_time_sectors_next_to_rmonitor() -> None:
    scorer = Scorer(layout=FULL_LOOPS)
    feed(scorer, *ENTRY)
    for time_ms, decoder in [(0, SF), (40_000, T5), (100_000, SF), (139_000, T5)]:
        cross(scorer, "222", time_ms, decoder)
    car = cars(scorer)["2"]
    assert car["last_loop"] == "T5"
    assert car["sectors"] == [{"from": "SF", "to": "T5", "time_ms": 39_000}]
    assert car["last_lap_sectors"] == [
        {"from": "SF", "to": "T5", "time_ms": 40_000},
        {"from": "T5", "to": "SF", "time_ms": 60_000},
    ]
    # Loops on this event time laps, but RMonitor (no $J yet) decides the lap count.
    assert car["laps"] == 0


def test_resent_passings_are_applied_once_across_sessions() -> None:
    scorer = Scorer(layout=PIT_LOOPS)
    feed(scorer, *ENTRY)
    first = LoopCrossing("111", 1_000, PIT_IN, passing_number=7)
    scorer.apply(first)
    feed(scorer, '$B,6,"Race 3"', '$A,"1","1",111,"Alpha","Racing","",1')
    scorer.apply(first)  # the decoder re-sends its history after a RESEND
    assert scorer.loop_counts.resent == 1
    assert cars(scorer, 0)["1"]["in_pit"] and not cars(scorer, 1)["1"]["in_pit"]


def test_crossings_between_runs_belong_to_the_last_session() -> None:
    scorer = Scorer(layout=PIT_LOOPS)
    feed(scorer, *ENTRY, '$B,95,""')
    assert scorer.engine.current is None
    cross(scorer, "111", 1_000, PIT_IN)
    assert cars(scorer)["1"]["in_pit"]
    cross(scorer, "111", 2_000, 99)
    assert scorer.loop_counts.unknown_loop == 1


# ---------------------------------------------------------------------------- passings alone


def test_a_decoder_alone_scores_a_passings_session(amb: list[P3Passing]) -> None:
    layout = LoopLayout([Loop("Finish", LoopKind.START_FINISH, AMB_DECODER)])
    scorer = Scorer(layout=layout, entries=KARTS)
    scorer.apply_all(amb)
    (session,) = engine_result(scorer)["sessions"]
    assert session["name"] == PASSINGS_SESSION and session["run"] is None
    # Laps as the loop timed them (kart 161's double detection collapsed), most laps first.
    assert [(c["number"], c["laps"], c["position"]) for c in session["cars"]] == [
        ("161", 29, 1),
        ("7", 26, 2),
        ("2", 25, 3),
    ]
    by_number = {c["number"]: c for c in session["cars"]}
    assert (by_number["161"]["best_lap_ms"], by_number["7"]["best_lap_ms"]) == (38_775, 43_111)
    assert by_number["7"]["name"] == "Kart Club Ana" and by_number["7"]["class"] == "Rental"
    assert by_number["2"]["class"] == "" and by_number["2"]["transponder"] == "3292480"
    assert all(c["last_loop"] == "Finish" for c in session["cars"])
    assert by_number["7"]["gap_laps"] == 3 and by_number["2"]["gap_laps"] == 1
    # Race time runs from the first line crossing to the last.
    first, last = amb[0].rtc_time_ms, max(p.rtc_time_ms for p in amb)
    assert session["race_time_ms"] == last - first
    assert scorer.loop_counts.crossings == 84 and scorer.loop_counts.duplicates == 1


def test_unmapped_karts_are_listed_by_transponder(amb: list[P3Passing]) -> None:
    layout = LoopLayout([Loop("Finish", LoopKind.START_FINISH, AMB_DECODER)])
    scorer = Scorer(layout=layout)
    scorer.apply_all(amb[:10])
    numbers = {c["number"] for c in cars(scorer).values()}
    assert numbers <= {"Tx3438895", "Tx5691251", "Tx3292480"} and numbers


def test_the_rmonitor_feed_ends_a_passings_session(amb: list[P3Passing]) -> None:
    layout = LoopLayout([Loop("Finish", LoopKind.START_FINISH, AMB_DECODER)])
    scorer = Scorer(layout=layout, entries=KARTS)
    scorer.apply_all(amb[:20])
    feed(scorer, *ENTRY)
    scorer.apply_all(amb[20:])
    first, second = engine_result(scorer)["sessions"]
    assert first["name"] == PASSINGS_SESSION and first["ended"]
    assert second["name"] == "Race 2" and not second["ended"]
    # After RMonitor began, passings only add loop fields: no kart joins the race.
    assert {c["number"] for c in second["cars"]} == {"1", "2", "3"}
    assert sum(c["laps"] for c in first["cars"]) < 29 + 26 + 25


# ---------------------------------------------------------------------------- race control

LOG = """\
Time,Car,Description,Penalty
14:10:00,2,Contact,1 lap
14:12:00,3,Track limits,Warning
14:15:00,3,Pit speeding,Drive through
"""


class RaceControl:
    """Imports a log as the server does: only what changed since the last import is applied."""

    def __init__(self, scorer: Scorer) -> None:
        self.scorer = scorer
        self.history: list[ControlLogRecord] = []

    def __call__(self, text: str) -> None:
        new = changes(self.history, parse_control_log(text))
        self.history.extend(new)
        self.scorer.apply_all(new)


def test_penalty_laps_reorder_the_race_and_tallies_show() -> None:
    scorer = Scorer()
    control = RaceControl(scorer)
    feed(
        scorer,
        *ENTRY,
        *lap("1", 1, 1, "00:01:40.000", "00:01:45.000"),
        *lap("2", 2, 1, "00:01:41.000", "00:01:46.000"),
        *lap("3", 3, 1, "00:01:43.000", "00:01:48.000"),
    )
    control(LOG)
    found = cars(scorer)
    assert [(n, c["position"], c["laps"], c["laps_completed"]) for n, c in found.items()] == [
        ("1", 1, 1, 1),
        ("3", 2, 1, 1),
        ("2", 3, 0, 1),
    ]
    assert (found["2"]["penalty_laps"], found["3"]["warnings"], found["3"]["black_flags"]) == (
        1,
        1,
        1,
    )
    assert found["2"]["gap_laps"] == 1
    # Race control rescinds the lap: a new revision, and the order is the feed's again.
    control(LOG.replace("Contact,1 lap", "Contact,"))
    assert [c["number"] for c in cars(scorer).values()] == ["1", "2", "3"]
    assert cars(scorer)["2"]["penalty_laps"] == 0


def test_practice_shows_penalties_without_deducting_laps() -> None:
    scorer = Scorer()
    control = RaceControl(scorer)
    feed(scorer, *[line.replace("Race 2", "Practice 1") for line in ENTRY])
    feed(scorer, '$H,1,"2",1,"00:01:40.000"', '$H,2,"1",1,"00:01:41.000"')
    control(LOG)
    found = cars(scorer)
    assert found["2"]["penalty_laps"] == 1 and found["2"]["position"] == 1


def test_entries_belong_to_the_session_they_were_logged_in() -> None:
    scorer = Scorer()
    control = RaceControl(scorer)
    control(LOG)  # before any session: the first session gets them
    assert scorer.control_session("row:2") is None
    feed(scorer, *ENTRY)
    assert scorer.control_session("row:2") == 0
    assert cars(scorer)["3"]["warnings"] == 1
    feed(scorer, '$B,6,"Race 3"', '$A,"3","3",333,"Charlie","","",2')
    assert cars(scorer)["3"]["warnings"] == 0  # race 3 has its own tally
    control(LOG.replace("Track limits,Warning", "Track limits,2 laps"))
    # The edited entry stays with race 2, where it was first logged.
    assert cars(scorer, 0)["3"]["penalty_laps"] == 2 and cars(scorer)["3"]["penalty_laps"] == 0
    control(LOG + "15:00:00,3,Jump start,Warning\n")
    assert scorer.control_session("row:5") == 1
    assert cars(scorer)["3"]["warnings"] == 1
    assert cars(scorer, 0)["3"]["warnings"] == 1  # the edit was undone: a warning again


def test_a_finished_session_is_rebuilt_when_race_control_adds_to_it() -> None:
    scorer = Scorer()
    control = RaceControl(scorer)
    feed(scorer, *ENTRY, *lap("2", 1, 1, "00:01:40.000", "00:01:45.000"), '$B,95,""')
    builder = SnapshotBuilder(scorer)
    before = builder.build()["sessions"][0]
    assert builder.build()["sessions"][0] is before  # ended: re-used
    control(LOG)
    after = builder.build()
    assert after["sessions"][0] is not before
    assert after == build_snapshot(scorer)
    assert {c["number"]: c["penalty_laps"] for c in after["sessions"][0]["cars"]}["2"] == 1


def test_a_bare_engine_scores_as_before() -> None:
    scorer = Scorer()
    feed(scorer, *ENTRY, *lap("2", 1, 1, "00:01:40.000", "00:01:45.000"))
    assert engine_result(scorer) == engine_result(scorer.engine)
    assert build_snapshot(scorer) == build_snapshot(scorer.engine)


def test_captures_score_alike_with_and_without_a_scorer(rmonitor_dir: Path) -> None:
    from trackside.feeds.capture import read_records

    data = (rmonitor_dir / "barber-2025-03-01-finish.log").read_bytes()
    scorer = Scorer(layout=PIT_LOOPS)
    scorer.apply_all(item.record for item in read_records(data))
    plain = Scorer()
    plain.apply_all(item.record for item in read_records(data))
    assert engine_result(scorer) == engine_result(plain)


def test_a_checkpoint_session_beside_the_feed_takes_nothing_of_it() -> None:
    """A checkpoint session opened before the feed or during it: loop crossings and race
    control still belong to the feed's sessions."""
    scorer = Scorer(layout=PIT_LOOPS)
    control = RaceControl(scorer)
    scorer.apply(CheckpointCrossing(9, "ana", "Start", 0, 0))
    control(LOG)  # no feed session yet: held for the first
    feed(scorer, *ENTRY, *lap("1", 1, 1, "00:01:40.000", "00:01:45.000"))
    assert scorer.checkpoints.index == 0 and scorer.control_session("row:2") == 1
    assert cars(scorer, 1)["3"]["warnings"] == 1
    scorer.apply(CheckpointCrossing(9, "ana", "Hill", 60_000, 1))
    cross(scorer, "111", 1_000_000, PIT_IN)
    assert cars(scorer, 1)["1"]["in_pit"] is True
    assert [c["last_loop"] for c in cars(scorer, 0).values()] == ["Hill"]
    assert scorer.engine.current is scorer.sessions[1]
