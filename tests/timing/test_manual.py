"""Manual timing from judges' records: team time, rank, the 15 that count, voids, the board."""

from __future__ import annotations

from trackside.feeds import judge_records
from trackside.feeds.judge_records import CompetitionStart, CompetitionStop, TeamTime, TimeVoid
from trackside.live.snapshot import build_snapshot
from trackside.timing.manual import RUNNERS, team_time
from trackside.timing.scorer import Scorer


def _time(team: int, ms: int, n: int) -> TeamTime:
    return TeamTime(1, team, f"Team {team}", str(team * 10), f"r-{team}-{n}", ms, "t", 1_000 + n)


def test_team_time_is_the_fifteenth_runner_or_the_last() -> None:
    assert team_time([]) is None
    assert team_time([300, 100, 200]) == 300
    assert team_time(list(range(1, 21))) == RUNNERS


def test_a_competition_is_a_session_ranked_by_runners_then_team_time() -> None:
    scorer = Scorer()
    scorer.apply(CompetitionStart(1, "5K", 42, 1_700_000_000_000))
    for n, ms in enumerate([900_000, 1_000_000]):
        scorer.apply(_time(1, ms, n))
    for n, ms in enumerate([800_000, 950_000, 1_200_000]):
        scorer.apply(_time(2, ms, n))
    scorer.apply(_time(3, 700_000, 0))
    scorer.apply(_time(3, 990_000, 1))
    standings = scorer.manual.standings(1)
    assert [(s.team, s.runners, s.team_time_ms, s.rank) for s in standings] == [
        (2, 3, 1_200_000, 1),
        (3, 2, 990_000, 2),
        (1, 2, 1_000_000, 3),
    ]
    session = scorer.sessions[0]
    assert session.stored_id == 42 and not session.ended
    board = build_snapshot(scorer)["sessions"][0]
    assert board["flag"] == "green"
    assert [(car["number"], car["laps"], car["total_time_ms"]) for car in board["cars"]] == [
        ("20", 3, 1_200_000),
        ("30", 2, 990_000),
        ("10", 2, 1_000_000),
    ]
    # A void withdraws one time; the stop makes the order the result.
    scorer.apply(TimeVoid(1, 2, "r-2-2"))
    scorer.apply(CompetitionStop(1, 1_700_001_000_000))
    lines = scorer.manual.standings(1)
    assert [(s.team, s.runners, s.team_time_ms) for s in lines][:2] == [
        (2, 2, 950_000),
        (3, 2, 990_000),
    ]
    assert scorer.sessions[0].ended
    assert build_snapshot(scorer)["sessions"][0]["flag"] == "finish"


def test_only_the_first_fifteen_to_arrive_count_and_a_resent_id_once() -> None:
    scorer = Scorer()
    for n in range(20):
        scorer.apply(_time(1, 1_000_000 - n, n))
    scorer.apply(_time(1, 5, 0))  # the same record id again
    (line,) = scorer.manual.standings(1)
    assert line.runners == RUNNERS
    assert line.team_time_ms == 1_000_000
    assert sorted(r.time_ms for r in line.records) == sorted(1_000_000 - n for n in range(15))


def test_records_survive_the_log_codec() -> None:
    for record in (
        CompetitionStart(1, "5K", None, 5),
        CompetitionStop(1, 6),
        _time(2, 7, 1),
        TimeVoid(1, 2, "x"),
    ):
        assert judge_records.decode(judge_records.encode(record)) == record
    for bad in ("nope", "[]", '{"kind": "lap"}', '{"kind": "stop", "competition": 1}'):
        try:
            judge_records.decode(bad)
        except ValueError:
            continue
        raise AssertionError(f"decoded {bad!r}")


def test_the_hub_payload_shows_the_competition() -> None:
    from trackside.live.compact import car_positions, live_session_of

    scorer = Scorer()
    scorer.apply(CompetitionStart(1, "5K", 42, 1_700_000_000_000))
    scorer.apply(_time(1, 1_000_000, 0))
    scorer.apply(_time(2, 900_000, 0))
    index, session = live_session_of(build_snapshot(scorer))
    assert index == 0 and session is not None
    positions = car_positions(session, 7)
    assert sorted((p["n"], p["llp"], p["ovp"]) for p in positions.values()) == [
        ("10", 1, 2),
        ("20", 1, 1),
    ]
