from __future__ import annotations

import xml.etree.ElementTree as ET

from tests.conftest import capture
from tests.timing.replaying import replay
from trackside.web.charts import lap_time_chart, position_chart

SVG = "{http://www.w3.org/2000/svg}"
RACE_DAY = [
    "road-america-2025-04-26-entries.log",
    "road-america-2025-04-26-grid.log",
    "road-america-2025-04-26-race-start.log",
]


def _lines(svg: str) -> dict[str, list[tuple[float, float]]]:
    root = ET.fromstring(svg)
    return {
        line.get("data-car"): [tuple(map(float, p.split(","))) for p in line.get("points").split()]
        for line in root.iter(f"{SVG}polyline")
    }


def test_position_chart_follows_the_leaders_lap_by_lap() -> None:
    (session,) = replay(*(capture(name) for name in RACE_DAY)).sessions
    lines = _lines(position_chart(session))
    assert len(lines) == 10  # the ten leading cars
    assert len(lines["2"]) == 3  # three laps each
    # Car 2 led lap 1 (top of the chart), car 70 was second.
    assert lines["2"][0][1] < lines["70"][0][1]


def test_lap_time_chart_for_chosen_cars() -> None:
    (session,) = replay(*(capture(name) for name in RACE_DAY)).sessions
    lines = _lines(lap_time_chart(session, ["2", "70", "149"]))
    assert set(lines) == {"2", "70", "149"}
    assert len(lines["149"]) == 2


def test_empty_session_draws_a_note_not_an_error() -> None:
    (session,) = replay(capture("class-change-2025-10-17.log")).sessions
    assert "no laps yet" in lap_time_chart(session)
    assert "no laps yet" in position_chart(session)
