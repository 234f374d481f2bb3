"""iRacing's units into trackside's, with the reference's examples."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.iracing import samples
from tests.iracing.fake_iracing import MEMBER_ID
from trackside.iracing import convert


def test_times_are_ten_thousandths_of_a_second() -> None:
    assert convert.seconds(1317601) == 131.7601
    assert convert.seconds(5041) == 0.5041  # an interval
    assert convert.seconds(0) == 0.0  # the winner's interval
    assert convert.seconds(-1) is None
    assert convert.seconds(None) is None
    assert convert.millis(1317601) == 131760
    assert convert.millis(1317605) == 131761  # half up
    assert convert.millis(-1) is None


def test_positions_are_zero_based() -> None:
    assert convert.position(0) == 1  # winner / pole
    assert convert.position(4) == 5
    assert convert.position(-1) is None  # no grid (practice)
    assert convert.position(None) is None
    assert convert.position("x") is None


def test_simsession_numbers_name_the_session() -> None:
    assert convert.session_type(0) == "race"
    assert convert.session_type(-1) == "qualifying"
    assert convert.session_type(-2) == "practice"
    assert convert.session_type(None, "Open Practice") == "practice"


def test_instants_and_the_1970_none() -> None:
    assert convert.instant("2022-04-01T15:45Z") == datetime(2022, 4, 1, 15, 45, tzinfo=UTC)
    assert convert.instant("1970-01-01T00:00:00Z") is None
    assert convert.instant("soon") is None


def test_a_race_result_converted() -> None:
    race = convert.summary(samples.league_race())
    assert race.subsession_id == samples.LEAGUE_RACE
    assert race.session_type == "race"  # the main event, not the qualifying before it
    assert race.track_name == "Circuit de Spa-Francorchamps - Grand Prix Pits"
    assert race.car_name == "Formula iR-04"
    assert race.league_id == samples.LEAGUE_ID and race.season_id == samples.SEASON_ID
    ana, bo, cy = race.participants
    assert (ana.cust_id, ana.display_name) == (MEMBER_ID, "Ana Diaz")
    assert ana.best_lap_time == 131.7601
    assert (ana.finish_position, ana.starting_position) == (1, 2)
    assert (ana.laps_completed, ana.incidents) == (3, 2)
    assert (bo.finish_position, bo.starting_position, bo.best_lap_time) == (2, 1, 132.0)
    assert cy.best_lap_time is None  # -1: no timed lap
    assert ana.car_class == "FR"


def test_practice_has_no_grid() -> None:
    [ana] = convert.summary(samples.hosted_practice()).participants
    assert ana.starting_position is None
    assert ana.finish_position == 1
    assert ana.best_lap_time == 58.4321


def test_team_rows_give_their_drivers_the_team_result() -> None:
    team_race = convert.summary(samples.hosted_team_race())
    ana, di, ed = team_race.participants
    assert (ana.team_id, ana.team_name) == (-361961, "Diaz Racing")
    assert di.team_name == "Diaz Racing"
    assert (ana.laps_completed, di.laps_completed) == (4, 2)  # each driver's own laps
    assert ana.total_laps == di.total_laps == 6  # the team's
    assert ana.finish_position == di.finish_position == 1
    assert ana.best_lap_time == 130.1234 and di.best_lap_time == 130.9999
    assert (ed.team_id, ed.finish_position) == (None, 2)


def test_missing_fields_become_null() -> None:
    bare = convert.summary(
        {"subsession_id": 5, "session_results": [{"simsession_number": 0, "results": [{}]}]}
    )
    assert bare.track_name is None and bare.start_time is None and bare.car_name is None
    [nobody] = bare.participants
    assert nobody == convert.Participant(None, None, None, None, None, None, None, None)
    assert convert.summary({"subsession_id": 6}).participants == ()
