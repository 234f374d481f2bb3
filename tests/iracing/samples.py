"""iRacing documents in the shapes protocols.md (e) gives, for the fake to serve."""

from __future__ import annotations

from typing import Any

from tests.iracing.fake_iracing import MEMBER_ID

LEAGUE_ID = 4403
SEASON_ID = 111
LEAGUE_RACE = 70001
HOSTED_PRACTICE = 80001
HOSTED_TEAM_RACE = 80002


def _row(cust: int, name: str, finish: int, start: int, laps: int, best: int, inc: int, **kw):
    row = {
        "cust_id": cust,
        "display_name": name,
        "finish_position": finish,
        "finish_position_in_class": finish,
        "starting_position": start,
        "starting_position_in_class": start,
        "laps_complete": laps,
        "laps_lead": 0,
        "best_lap_time": best,
        "best_lap_num": 2,
        "average_lap": -1 if best < 0 else best + 5041,
        "incidents": inc,
        "interval": 0 if finish == 0 else 5041 * finish,
        "class_interval": 0,
        "reason_out": "Running",
        "car_id": 99,
        "car_name": "Formula iR-04",
        "car_class_id": 1,
        "livery": {"car_number": str(10 + cust % 50)},
    }
    row.update(kw)
    return row


def league_race() -> dict[str, Any]:
    return {
        "subsession_id": LEAGUE_RACE,
        "session_id": 9001,
        "start_time": "2026-11-20T19:00:00Z",
        "end_time": "2026-11-20T19:40:00Z",
        "event_type": 5,
        "event_type_name": "Race",
        "series_name": "Solana Grand Prix",
        "league_id": LEAGUE_ID,
        "league_name": "Solana Grand Prix",
        "league_season_id": SEASON_ID,
        "track": {
            "track_id": 163,
            "track_name": "Circuit de Spa-Francorchamps",
            "config_name": "Grand Prix Pits",
        },
        "car_classes": [{"car_class_id": 1, "short_name": "FR", "name": "Formula Renault"}],
        "session_results": [
            {"simsession_number": -1, "simsession_type_name": "Lone Qualifying", "results": []},
            {
                "simsession_number": 0,
                "simsession_type_name": "Race",
                "results": [
                    _row(MEMBER_ID, "Ana Diaz", 0, 1, 3, 1317601, 2),
                    _row(22222, "Bo Li", 1, 0, 3, 1320000, 4),
                    _row(33333, "Cy Oda", 2, 2, 1, -1, 0, reason_out="Disconnected"),
                ],
            },
        ],
    }


def hosted_practice() -> dict[str, Any]:
    return {
        "subsession_id": HOSTED_PRACTICE,
        "session_id": 9002,
        "start_time": "2026-11-25T18:00:00Z",
        "end_time": "2026-11-25T18:30:00Z",
        "event_type_name": "Hosted",
        "session_name": "Tuesday practice",
        "track": {"track_name": "Lime Rock Park"},
        "session_results": [
            {
                "simsession_number": -2,
                "simsession_type_name": "Open Practice",
                "results": [_row(MEMBER_ID, "Ana Diaz", 0, -1, 12, 584321, 1)],
            }
        ],
    }


def hosted_team_race() -> dict[str, Any]:
    team = _row(-361961, "Diaz Racing", 0, 0, 6, 1301234, 3, team_id=-361961)
    team.pop("cust_id")
    team["driver_results"] = [
        _row(MEMBER_ID, "Ana Diaz", 0, 0, 4, 1301234, 1),
        _row(44444, "Di Ek", 0, 0, 2, 1309999, 2),
    ]
    other = _row(55555, "Ed Fu", 1, 1, 5, 1312000, 0)
    return {
        "subsession_id": HOSTED_TEAM_RACE,
        "start_time": "2026-11-28T18:00:00Z",
        "event_type_name": "Hosted",
        "session_name": "Team enduro",
        "track": {"track_name": "Road Atlanta", "config_name": "Full Course"},
        "session_results": [
            {"simsession_number": 0, "simsession_type_name": "Race", "results": [team, other]}
        ],
    }


def laps(cust: int, times: list[int], start_session_time: int = 0) -> list[dict[str, Any]]:
    """An out-lap (lap 0, no time) then each lap's time in 1/10000 s."""
    rows = [
        {
            "cust_id": cust,
            "lap_number": 0,
            "lap_time": -1,
            "session_time": start_session_time,
            "flags": 0,
            "incident": False,
            "lap_events": [],
        }
    ]
    elapsed = start_session_time
    for number, lap_time in enumerate(times, start=1):
        elapsed += lap_time
        rows.append(
            {
                "cust_id": cust,
                "lap_number": number,
                "lap_time": lap_time,
                "session_time": elapsed,
                "flags": 0,
                "incident": False,
                "lap_events": [],
            }
        )
    return rows


def documents() -> dict[str, Any]:
    return {
        "leagues": [{"league_id": LEAGUE_ID, "league_name": "Solana Grand Prix", "owner": False}],
        "seasons": [{"season_id": SEASON_ID, "season_name": "Winter", "active": True}],
        f"season_sessions/{LEAGUE_ID}/{SEASON_ID}": [
            {
                "subsession_id": LEAGUE_RACE,
                "session_id": 9001,
                "launch_at": "2026-11-20T19:00:00Z",
                "track": {"track_name": "Circuit de Spa-Francorchamps"},
                "has_results": True,
            },
            {"session_id": 9005, "launch_at": "2026-12-24T19:00:00Z", "has_results": False},
        ],
        "hosted": [
            {"subsession_id": HOSTED_PRACTICE, "start_time": "2026-11-25T18:00:00Z"},
            {"subsession_id": HOSTED_TEAM_RACE, "start_time": "2026-11-28T18:00:00Z"},
        ],
        f"results/{LEAGUE_RACE}": league_race(),
        f"results/{HOSTED_PRACTICE}": hosted_practice(),
        f"results/{HOSTED_TEAM_RACE}": hosted_team_race(),
        f"laps/{LEAGUE_RACE}/{MEMBER_ID}": laps(MEMBER_ID, [1350000, 1317601, 1320500], 20000),
        f"laps/{LEAGUE_RACE}/22222": laps(22222, [1340000, 1320000, 1325000], 10000),
        f"laps/{LEAGUE_RACE}/33333": laps(33333, [1400000], 30000),
    }
