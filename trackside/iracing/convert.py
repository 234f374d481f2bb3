"""iRacing's units and conventions into trackside's, pure.

iRacing times are integers of 1/10000 s (``1317601`` = 131.7601 s), ``-1`` meaning none;
positions are 0-based (0 = winner, pole) with ``-1`` where there was none (no grid in a
practice). A team event's result row is the team, with its drivers in ``driver_results``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

TICKS_PER_S = 10_000
RACE_SIMSESSION = 0
PRACTICE, QUALIFYING, RACE = "practice", "qualifying", "race"
NO_DATE = datetime(1970, 1, 1, tzinfo=UTC)


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def seconds(ticks: Any) -> float | None:
    """1/10000 s → seconds; ``-1`` or nothing → None."""
    value = _int(ticks)
    if value is None or value < 0:
        return None
    return value / TICKS_PER_S


def millis(ticks: Any) -> int | None:
    """1/10000 s → integer milliseconds (rounded half up), as the timing core keeps times."""
    value = _int(ticks)
    if value is None or value < 0:
        return None
    return (value + 5) // 10


def position(zero_based: Any) -> int | None:
    """0-based → 1-based; ``-1`` or nothing → None."""
    value = _int(zero_based)
    if value is None or value < 0:
        return None
    return value + 1


def count(value: Any) -> int | None:
    number = _int(value)
    return number if number is not None and number >= 0 else None


def instant(value: Any) -> datetime | None:
    """ISO-8601 (``2022-04-01T15:45:00Z``) → aware UTC; the 1970 'none' date → None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    parsed = parsed.astimezone(UTC)
    return None if parsed == NO_DATE else parsed


def session_type(simsession_number: Any, name: Any = None) -> str:
    """``-2`` practice, ``-1`` qualifying, ``0`` race; else read the type's name."""
    number = _int(simsession_number)
    if number == 0:
        return RACE
    if number == -1:
        return QUALIFYING
    if number == -2:
        return PRACTICE
    text = str(name or "").lower()
    if "qual" in text:
        return QUALIFYING
    if "pract" in text or "warm" in text:
        return PRACTICE
    return RACE


def _text(value: Any, limit: int = 200) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text[:limit] or None


@dataclass(frozen=True, slots=True)
class Participant:
    """One driver's result in trackside units."""

    cust_id: int | None
    display_name: str | None
    laps_completed: int | None
    best_lap_time: float | None  # seconds
    incidents: int | None
    finish_position: int | None  # 1-based
    starting_position: int | None  # 1-based
    total_laps: int | None
    car_number: str | None = None
    car_class: str | None = None
    team_id: int | None = None
    team_name: str | None = None


@dataclass(frozen=True, slots=True)
class SessionSummary:
    """What a ``results/get`` document says about a subsession, converted."""

    subsession_id: int
    session_id: int | None
    session_type: str
    session_name: str | None
    track_name: str | None
    car_name: str | None
    series_name: str | None
    league_id: int | None
    league_name: str | None
    season_id: int | None
    start_time: datetime | None
    end_time: datetime | None
    participants: tuple[Participant, ...]


def main_simsession(doc: dict[str, Any]) -> dict[str, Any] | None:
    """The main event (``simsession_number`` 0), else the last simsession listed."""
    sessions = [s for s in doc.get("session_results") or () if isinstance(s, dict)]
    if not sessions:
        return None
    for simsession in sessions:
        if _int(simsession.get("simsession_number")) == RACE_SIMSESSION:
            return simsession
    return sessions[-1]


def _classes(doc: dict[str, Any]) -> dict[int, str]:
    out: dict[int, str] = {}
    for item in doc.get("car_classes") or ():
        if isinstance(item, dict) and _int(item.get("car_class_id")) is not None:
            name = _text(item.get("short_name")) or _text(item.get("name"))
            if name:
                out[_int(item["car_class_id"])] = name  # type: ignore[index]
    return out


def _car_number(row: dict[str, Any]) -> str | None:
    livery = row.get("livery")
    number = livery.get("car_number") if isinstance(livery, dict) else None
    return _text(number if number is not None else row.get("car_number"), 20)


def _driver(
    row: dict[str, Any], team: dict[str, Any] | None, classes: dict[int, str]
) -> Participant:
    """A result row (or a team's driver row, positions from the team's row) converted."""
    ranked = team if team is not None else row
    class_id = _int(ranked.get("car_class_id"))
    return Participant(
        cust_id=_int(row.get("cust_id")),
        display_name=_text(row.get("display_name")),
        laps_completed=count(row.get("laps_complete")),
        best_lap_time=seconds(row.get("best_lap_time")),
        incidents=count(row.get("incidents")),
        finish_position=position(ranked.get("finish_position")),
        starting_position=position(ranked.get("starting_position")),
        total_laps=count(ranked.get("laps_complete")),
        car_number=_car_number(row) or _car_number(ranked),
        car_class=_text(ranked.get("car_class_short_name"))
        or _text(ranked.get("car_class_name"))
        or (classes.get(class_id) if class_id is not None else None),
        team_id=_int(team.get("team_id")) if team is not None else None,
        team_name=_text(team.get("display_name")) if team is not None else None,
    )


def participants(doc: dict[str, Any]) -> tuple[Participant, ...]:
    """Every driver of the main simsession; a team's drivers carry the team's positions."""
    simsession = main_simsession(doc)
    if simsession is None:
        return ()
    classes = _classes(doc)
    out: list[Participant] = []
    for row in simsession.get("results") or ():
        if not isinstance(row, dict):
            continue
        drivers = row.get("driver_results")
        if isinstance(drivers, list) and drivers:
            out.extend(_driver(d, row, classes) for d in drivers if isinstance(d, dict))
        else:
            out.append(_driver(row, None, classes))
    return tuple(out)


def _car_name(doc: dict[str, Any], simsession: dict[str, Any] | None) -> str | None:
    names = set()
    for row in (simsession or {}).get("results") or ():
        if isinstance(row, dict) and _text(row.get("car_name")):
            names.add(_text(row.get("car_name")))
    if len(names) == 1:
        return names.pop()
    classes = _classes(doc)
    if len(classes) == 1:
        return next(iter(classes.values()))
    return "Multiclass" if names or classes else None


def summary(doc: dict[str, Any], **known: Any) -> SessionSummary:
    """A ``results/get`` document as a session; ``known`` fills what it lacks (league name…)."""
    simsession = main_simsession(doc)
    track = doc.get("track") if isinstance(doc.get("track"), dict) else {}
    track_name = _text(track.get("track_name"))
    config = _text(track.get("config_name"))
    if track_name and config:
        track_name = f"{track_name} - {config}"
    sim_number = simsession.get("simsession_number") if simsession else None
    sim_name = simsession.get("simsession_type_name") if simsession else None
    subsession = _int(doc.get("subsession_id")) or _int(known.get("subsession_id"))
    if subsession is None:
        raise ValueError("the result has no subsession_id")
    return SessionSummary(
        subsession_id=subsession,
        session_id=_int(doc.get("session_id")) or _int(known.get("session_id")),
        session_type=session_type(sim_number, sim_name or doc.get("event_type_name")),
        session_name=_text(doc.get("session_name")) or _text(known.get("session_name")),
        track_name=track_name or _text(known.get("track_name")),
        car_name=_car_name(doc, simsession),
        series_name=_text(doc.get("series_name")),
        league_id=_int(doc.get("league_id")) or _int(known.get("league_id")),
        league_name=_text(doc.get("league_name")) or _text(known.get("league_name")),
        season_id=_int(doc.get("league_season_id"))
        or _int(known.get("season_id"))
        or _int(doc.get("season_id")),
        start_time=instant(doc.get("start_time")) or instant(known.get("start_time")),
        end_time=instant(doc.get("end_time")),
        participants=participants(doc),
    )
