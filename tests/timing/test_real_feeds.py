"""Issue 8 A: what real feeds from other tracks got wrong, each from a small hand-written feed."""

from __future__ import annotations

from trackside.feeds.rmonitor import parse_lines
from trackside.timing.engine import RaceEngine
from trackside.timing.results import engine_result


def replay(feed: str) -> dict:
    engine = RaceEngine()
    engine.apply_all(parse_lines(line for line in feed.strip().splitlines()))
    return engine_result(engine)


def cars_of(session: dict) -> dict[str, dict]:
    return {car["registration"]: car for car in session["cars"]}


def entry(reg: str) -> str:
    return f'$A,"{reg}","{reg}",10{reg},"Driver","{reg}","USA",1\n'


def race(*rows: tuple[str, int, str]) -> str:
    """Run 12 under green: one entry and one ``$G`` per ``(registration, laps, total)``."""
    lines = ['$B,12,"Race"', '$C,1,"GT"']
    lines += [entry(reg).strip() for reg, _, _ in rows]
    lines.append('$F,0,"00:00:00","14:00:00","00:45:00","Green "')
    lines += [f'$G,{i},"{reg}",{laps},"{total}"' for i, (reg, laps, total) in enumerate(rows, 1)]
    return "\n".join(lines) + "\n"


RACE_12 = race(("8", 30, "00:44:50.000"), ("7", 30, "00:45:00.000")) + (
    '$H,1,"8",12,"00:01:29.000"\n$H,2,"7",20,"00:01:30.000"\n'
)


# --- 1. nothing after a close opens an unnamed session -------------------------------------


def test_records_after_a_close_update_the_closed_run() -> None:
    result = replay(
        RACE_12
        + """
$B,95,"Race"
$G,1,"7",31,"00:46:10.000"
$G,2,"8",30,"00:44:50.000"
$H,1,"7",31,"00:01:28.500"
"""
    )
    assert [s["run"] for s in result["sessions"]] == [12]
    (race,) = result["sessions"]
    assert race["ended"]
    car7 = cars_of(race)["7"]
    assert (car7["position"], car7["laps"], car7["total_time_ms"]) == (1, 31, 2_770_000)
    assert car7["best_lap_ms"] == 88_500


def test_after_a_close_and_a_reset_records_wait_for_the_next_run() -> None:
    result = replay(
        RACE_12
        + """
$B,95,"Race"
$I,"14:50:00","25 Apr 25"
$C,2,"Spec"
$A,"21","21",1021,"Cy","Ray","USA",2
$G,1,"21",0,"00:00:00"
$B,13,"Practice 2"
$G,1,"21",1,"00:01:40.000"
"""
    )
    assert [s["run"] for s in result["sessions"]] == [12, 13]
    race, practice = result["sessions"]
    assert set(cars_of(race)) == {"7", "8"}  # the reset closed run 12's window
    assert set(cars_of(practice)) == {"21"} and practice["classes"] == {"2": "Spec"}


def test_records_that_no_run_claims_are_never_a_session() -> None:
    result = replay(RACE_12 + '$B,95,"Race"\n$I,"14:50:00","25 Apr 25"\n$G,1,"21",3,"00:05:00"')
    assert [s["run"] for s in result["sessions"]] == [12]
    assert "21" not in cars_of(result["sessions"][0])
    assert replay('$A,"5","5",1,"A","B","USA",1\n$G,1,"5",2,"00:03:00"')["sessions"] == []


# --- 2. the timing system's best lap wins ---------------------------------------------------


def test_the_feeds_best_lap_beats_a_faster_derived_one() -> None:
    # A reset and a refresh in between: the $H best lap still stands over our passings.
    result = replay(
        RACE_12
        + """
$I,"14:46:00","25 Apr 25"
$A,"7","7",107,"Driver","7","USA",1
$A,"8","8",108,"Driver","8","USA",1
$J,"7","00:01:25.000","00:46:25.000"
$G,2,"7",31,"00:46:25.000"
"""
    )
    car7 = cars_of(result["sessions"][0])["7"]
    assert (car7["best_lap"], car7["best_lap_ms"]) == (20, 90_000)
    assert car7["last_lap_ms"] == 85_000


def test_a_partial_lap_after_a_reset_is_no_best_lap() -> None:
    feed = ['$B,3,"Heat"', '$A,"1","1",1,"A","B","USA",1', '$A,"2","2",2,"C","D","USA",1']
    for lap in range(1, 5):  # two cars lapping a 90 s track, no $H at all
        feed.append(f'$J,"1","00:01:30.{lap:03d}","00:0{lap * 2}:00.000"')
        feed.append(f'$J,"2","00:01:31.{lap:03d}","00:0{lap * 2}:01.000"')
    feed += ['$I,"14:00:00","25 Apr 25"', '$J,"1","00:00:31.900","00:08:31.900"']
    cars = cars_of(replay("\n".join(feed))["sessions"][0])
    assert (cars["1"]["best_lap_ms"], cars["1"]["best_lap"]) == (90_001, 1)
    assert cars["1"]["last_lap_ms"] == 31_900
    assert cars["2"]["best_lap_ms"] == 91_001


# --- 3. untimed cars rank last in practice and qualifying -----------------------------------


def test_untimed_cars_rank_after_every_timed_car() -> None:
    result = replay(
        """
$B,40,"Qualifying"
$H,1,"6",0,"00:59:59.999"
$H,2,"7",3,"00:01:30.000"
$H,3,"9",0,"00:00:00"
$H,4,"8",2,"00:01:31.000"
$H,5,"5",0,""
"""
    )
    (session,) = result["sessions"]
    assert session["type"] == "qualifying"
    assert [car["registration"] for car in session["cars"]] == ["7", "8", "6", "9", "5"]
    assert [car["position"] for car in session["cars"]] == [1, 2, 3, 4, 5]
    assert cars_of(session)["6"]["best_lap_ms"] is None


# --- 4. cars the timing system deleted leave the classification -----------------------------


def test_a_car_left_out_of_a_refresh_leaves_the_standings() -> None:
    feed = race(*((reg, 5, f"00:07:3{reg}.000") for reg in "1234"))
    # The run re-sent with its whole field, car 2 left out; car 2's stale $G says P2.
    feed += '$B,12,"Race"\n' + "".join(entry(reg) for reg in "134")
    feed += '$G,1,"1",6,"00:09:00.000"\n$G,3,"4",6,"00:09:03.000"\n$G,2,"3",6,"00:09:02.000"\n'
    (session,) = replay(feed)["sessions"]
    assert [(car["registration"], car["position"]) for car in session["cars"]] == [
        ("1", 1),
        ("3", 2),
        ("4", 3),
    ]
    # Entered again after the refresh: back in the standings.
    (session,) = replay(feed + entry("2") + '$G,4,"2",6,"00:09:05.000"')["sessions"]
    assert [car["registration"] for car in session["cars"]] == ["1", "3", "4", "2"]


def test_entries_before_the_first_run_are_not_deleted_by_it() -> None:
    # A capture that starts in the middle of a refresh: the $B comes after some entries.
    feed = entry("1") + entry("2") + '$B,12,"Race"\n' + entry("3")
    feed += '$G,1,"3",1,"00:01:30.000"\n$G,2,"1",1,"00:01:31.000"\n$G,3,"2",1,"00:01:32.000"'
    (session,) = replay(feed)["sessions"]
    assert [car["registration"] for car in session["cars"]] == ["3", "1", "2"]


def test_a_run_resent_without_entries_deletes_nobody() -> None:
    (session,) = replay(RACE_12 + '$B,12,"Race"\n$G,1,"8",31,"00:46:20.000"')["sessions"]
    assert [car["registration"] for car in session["cars"]] == ["8", "7"]


# --- 5. same-lap gaps in a finished session are true gaps -----------------------------------

RETIRED = race(("1", 10, "00:15:00.000"), ("2", 10, "00:55:00.000"))


def test_a_large_same_lap_gap_shows_once_the_session_ended() -> None:
    live = cars_of(replay(RETIRED)["sessions"][0])["2"]
    assert (live["gap_ms"], live["gap_laps"]) == (None, 0)  # live: may be out of step
    ended = cars_of(replay(RETIRED + '$B,95,"Race"')["sessions"][0])["2"]
    assert (ended["gap_ms"], ended["gap_laps"]) == (2_400_000, 0)
    assert ended["difference_ms"] == 2_400_000


def test_a_large_same_lap_gap_of_confirmed_totals_shows_live() -> None:
    feed = RETIRED.replace('$G,1,"1"', '$J,"1","00:01:30.000","00:15:00.000"\n$G,1,"1"').replace(
        '$G,2,"2"', '$J,"2","00:01:31.000","00:55:00.000"\n$G,2,"2"'
    )
    (session,) = replay(feed)["sessions"]
    assert not session["ended"]
    assert cars_of(session)["2"]["gap_ms"] == 2_400_000


def test_an_unconfirmed_large_gap_is_still_held_back_live() -> None:
    feed = RETIRED.replace('$G,2,"2"', '$J,"2","00:01:31.000","00:56:30.000"\n$G,2,"2"')
    car2 = cars_of(replay(feed)["sessions"][0])["2"]
    assert car2["gap_ms"] is None  # car 2 crossed again; its $G is not the latest yet


# --- 6. empty rows are no cars ---------------------------------------------------------------


def test_an_empty_registration_adds_no_car() -> None:
    (session,) = replay(RACE_12 + '$G,37,"",,"00:00:00"\n$H,38,"",,"00:00:00"')["sessions"]
    assert set(cars_of(session)) == {"7", "8"}
    assert [car["position"] for car in session["cars"]] == [1, 2]
