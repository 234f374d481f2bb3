"""The simulator's feed, read by trackside's own parser and engine, gives back its truth."""

from __future__ import annotations

import statistics
from functools import cache

import orjson
import pytest

from tests.live.feeding import Feed, as_json
from trackside.feeds.capture import read_records
from trackside.feeds.records import FeedError
from trackside.feeds.rmonitor import parse_lines
from trackside.live.patch import apply_patch
from trackside.sim import SimConfig, SimulatedRace, simulate
from trackside.timing.engine import RaceEngine
from trackside.timing.results import engine_result

SHORT = SimConfig(seed=7, duration_ms=20 * 60_000, yellow_ms=180_000)


@cache
def _race(config: SimConfig = SHORT) -> SimulatedRace:
    return simulate(config)


@cache
def _scored(config: SimConfig = SHORT) -> dict:
    engine = RaceEngine()
    engine.apply_all(parse_lines(_race(config).text_lines()))
    return engine_result(engine)


def test_the_feed_parses_without_a_single_error() -> None:
    race = _race()
    records = list(parse_lines(race.text_lines()))
    assert not [r for r in records if isinstance(r, FeedError)]
    result = _scored()
    assert (result["errors"], result["unknown"]) == (0, 0)
    (session,) = result["sessions"]
    assert (session["run"], session["name"], session["type"]) == (12, SHORT.name, "race")
    assert session["ended"] is True  # closed by $B,95


def test_classification_matches_the_simulators_truth() -> None:
    race = _race()
    (session,) = _scored()["sessions"]
    cars = session["cars"]
    truth = race.classification
    assert [c["registration"] for c in cars] == [t.registration for t in truth]
    for car, true in zip(cars, truth, strict=True):
        assert car["position"] == true.position
        assert (car["laps"], car["total_time_ms"]) == (true.laps, true.total_time_ms)
        assert (car["best_lap_ms"], car["best_lap"]) == (true.best_lap_ms, true.best_lap)
        assert car["starting_position"] == true.starting_position
        assert car["stale"] is true.retired  # retired cars stop crossing the line
    classes = {spec.class_id: spec.name for spec in SHORT.classes}
    assert [c["class"] for c in cars] == [classes[t.class_id] for t in truth]
    assert cars[0]["laps"] > 5


def test_flags_go_yellow_green_yellow_green_finish() -> None:
    race = _race()
    (session,) = _scored()["sessions"]
    flags = [p["flag"] for p in session["flag_periods"]]
    assert flags == list(race.flags) == ["none", "yellow", "green", "yellow", "green", "finish"]
    yellow = session["flag_periods"][3]
    assert yellow["start_ms"] == race.yellow_ms[0] and yellow["end_ms"] == race.yellow_ms[1]
    finish = session["flag_periods"][5]
    assert finish["start_ms"] == -(-race.finish_ms // 1000) * 1000  # the next heartbeat
    assert session["time_to_go_ms"] == 0 and session["flag"] == "finish"


def test_each_car_takes_the_chequered_flag_once() -> None:
    race = _race()
    after: dict[str, int] = {}
    for record in parse_lines(race.text_lines()):
        total = getattr(record, "total_time_ms", None)
        if type(record).__name__ == "Passing" and total is not None and total >= race.finish_ms:
            after[record.registration] = after.get(record.registration, 0) + 1
    finishers = {t.registration for t in race.classification if t.finished}
    assert set(after) == finishers and set(after.values()) == {1}
    assert {t.registration for t in race.classification if not t.finished} == {
        t.registration for t in race.classification if t.retired
    }


def test_orbits_order_after_each_crossing() -> None:
    """``$J``, then ``$G`` for this car and any car that moved, then ``$H``."""
    text = _race().text_lines()
    crossings = 0
    for i, line in enumerate(text):
        if not line.startswith("$J"):
            continue
        crossings += 1
        reg = line.split(",")[1]
        assert text[i + 1].startswith("$G") and text[i + 1].split(",")[2] == reg
        j = i + 1
        while text[j].startswith("$G"):
            j += 1
        assert text[j].startswith("$H") and text[j].split(",")[2] == reg
    assert crossings > 100


def test_a_realistic_field() -> None:
    race = _race()
    assert 20 <= len(race.entries) <= 30 and len(SHORT.classes) >= 3
    (session,) = _scored()["sessions"]
    by_class: dict[str, list[int]] = {}
    for car in session["cars"]:
        if car["best_lap_ms"]:
            by_class.setdefault(car["class"], []).append(car["best_lap_ms"])
    medians = [statistics.median(by_class[spec.name]) for spec in SHORT.classes]
    assert medians == sorted(medians)  # the classes' pace differs, in their order
    assert all(max(laps) > min(laps) for laps in by_class.values())  # and cars within a class


def _laps_by_car(race: SimulatedRace) -> dict[str, list[tuple[int, int]]]:
    """(lap time, race time at the line) of every lap of every car, from the feed."""
    laps: dict[str, list[tuple[int, int]]] = {}
    for record in parse_lines(race.text_lines()):
        if type(record).__name__ == "Passing" and record.lap_time_ms:
            laps.setdefault(record.registration, []).append(
                (record.lap_time_ms, record.total_time_ms)
            )
    return laps


def test_pit_stops_and_the_yellow_make_slow_laps() -> None:
    race = _race()
    laps = _laps_by_car(race)
    y0, y1 = race.yellow_ms
    for true in race.classification:
        car_laps = laps[true.registration]
        green = [
            t
            for n, (t, at) in enumerate(car_laps, start=1)
            if (at < y0 or at - t > y1) and n != true.pit_lap
        ]
        typical = statistics.median(green)
        if true.pit_lap is not None and true.pit_lap <= true.laps:
            pit_lap_time = car_laps[true.pit_lap - 1][0]
            assert pit_lap_time > typical + SHORT.pit_loss_ms[0] * 0.8
        in_yellow = [t for t, at in car_laps if at - t >= y0 and at <= y1]
        assert all(t > typical * 1.2 for t in in_yellow)
        # Laps vary from one to the next: noise, not a metronome.
        assert len(set(green)) == len(green)


def test_same_seed_same_feed() -> None:
    assert simulate(SHORT).lines == _race().lines
    other = simulate(SimConfig(seed=8, duration_ms=SHORT.duration_ms, yellow_ms=180_000))
    assert other.lines != _race().lines


def test_a_lap_race_counts_laps_down() -> None:
    config = SimConfig(seed=3, laps=6, yellow_ms=120_000, retirements=0)
    race = simulate(config)
    heartbeats = [line for line in race.text_lines() if line.startswith("$F")]
    laps_to_go = [int(line.split(",")[1]) for line in heartbeats[:-1]]
    assert laps_to_go[0] == 6 and laps_to_go[-1] == 0
    assert laps_to_go == sorted(laps_to_go, reverse=True)
    assert race.classification[0].laps == 6
    (session,) = _scored(config)["sessions"]
    assert [c["registration"] for c in session["cars"]] == [
        t.registration for t in race.classification
    ]


def test_the_capture_form_reads_back_with_receive_times() -> None:
    race = _race()
    start = 1_745_672_400_000  # 2025-04-26 13:00:00 UTC
    items = list(read_records(race.as_capture(start)))
    assert [type(i.record) for i in items] == [type(r) for r in parse_lines(race.text_lines())]
    times = [i.received_at_ms for i in items]
    assert times[0] == start and times == sorted(times)
    assert times[-1] == start + race.lines[-1].at_ms


def test_bad_configs_are_refused() -> None:
    with pytest.raises(ValueError):
        simulate(SimConfig(duration_ms=5 * 60_000, yellow_ms=600_000))


def test_live_invariant_on_a_simulated_race() -> None:
    """The demo's path: the simulator's feed, sent second by second, through the live state."""
    race = _race()
    records = list(parse_lines(race.text_lines()))
    sent_at = [item.at_ms for item in race.lines]
    feed = Feed()
    start = 0
    for end in range(1, len(records) + 1):
        if end == len(records) or sent_at[end] != sent_at[start]:
            feed.apply(records[start:end])
            start = end
    snapshot = feed.first_snapshot
    for message in feed.patches:
        snapshot = apply_patch(snapshot, orjson.loads(message.data))
    assert snapshot == as_json(feed.live.snapshot)
    assert snapshot["current"] is None and snapshot["sessions"][0]["ended"] is True
