from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from statistics import median_low

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trackside.feeds.p3 import read_hex_capture
from trackside.feeds.p3_records import P3Passing
from trackside.timing.loops import (
    CarLoops,
    LoopCrossing,
    LoopKind,
    LoopLayout,
    PitLaneTracker,
    PitStop,
    SectorTime,
    crossing_from_p3,
    pit_fields,
)
from trackside.timing.loops import Loop as L

AMB = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "p3" / "amb.out"
AMB_DECODER = 0x00041813
# vmindru/ambweb misc/KARTS, via ../shared/data/p3/README.md.
KARTS = {"5691251": "7", "3292480": "2", "3438895": "161"}

SF, T5, PIT_IN, PIT_SF, PIT_OUT = 1, 2, 3, 4, 5
ROAD = LoopLayout(
    [
        L("SF", LoopKind.START_FINISH, SF),
        L("T5", LoopKind.SECTOR, T5),
        L("Pit In", LoopKind.PIT_IN, PIT_IN),
        L("Pit SF", LoopKind.PIT_START_FINISH, PIT_SF),
        L("Pit Out", LoopKind.PIT_OUT, PIT_OUT),
    ]
)


@pytest.fixture(scope="module")
def amb_passings() -> list[P3Passing]:
    if not AMB.exists():  # pragma: no cover - the suite needs shared/ beside the checkout
        pytest.fail(f"capture missing: {AMB}")
    return [r for r in read_hex_capture(AMB.read_text()) if isinstance(r, P3Passing)]


def _amb_tracker(passings: list[P3Passing]) -> PitLaneTracker:
    tracker = PitLaneTracker(LoopLayout([L("Finish", LoopKind.START_FINISH, AMB_DECODER)]), KARTS)
    for passing in passings:
        tracker.apply(passing)
    return tracker


def drive(tracker: PitLaneTracker, *steps: tuple[int, int], transponder: str = "1001") -> CarLoops:
    car = None
    for time_ms, decoder in steps:
        car = tracker.apply(LoopCrossing(transponder, time_ms, decoder)) or car
    assert car is not None
    return car


# ---------------------------------------------------------------------------- the real capture


def test_capture_laps_per_kart(amb_passings: list[P3Passing]) -> None:
    tracker = _amb_tracker(amb_passings)
    cars = tracker.cars
    assert sorted(cars) == ["161", "2", "7"]
    # Crossings minus the one that starts lap timing; kart 161's double detection collapsed.
    assert {e: (c.crossings, len(c.laps), c.duplicates) for e, c in cars.items()} == {
        "161": (30, 29, 1),
        "7": (27, 26, 0),
        "2": (26, 25, 0),
    }
    assert (tracker.duplicates, tracker.resent, tracker.unknown_loop) == (1, 0, 0)
    medians = {e: median_low(lap.lap_time_ms for lap in c.laps) for e, c in cars.items()}
    assert medians == {"161": 39_223, "7": 45_988, "2": 48_741}
    assert all(39_000 <= m <= 49_000 for m in medians.values())
    best = {e: min(lap.lap_time_ms for lap in c.laps) for e, c in cars.items()}
    assert best == {"161": 38_775, "7": 43_111, "2": 46_029}
    # Lap times add up to the span between the first and the last crossing.
    for car in cars.values():
        assert sum(lap.lap_time_ms for lap in car.laps) == car.laps[-1].end_ms - (
            car.laps[0].end_ms - car.laps[0].lap_time_ms
        )
    assert all(pit_fields(c) == _fields(ln="Finish") for c in cars.values())


def test_capture_double_detection_keeps_the_first(amb_passings: list[P3Passing]) -> None:
    kart = [p for p in amb_passings if p.transponder == 3438895]
    gaps = [(b.rtc_time_ms - a.rtc_time_ms, a, b) for a, b in pairwise(kart)]
    gap, first, second = min(gaps, key=lambda g: g[0])
    assert gap == 2_767
    car = _amb_tracker(amb_passings).cars["161"]
    ends = {lap.end_ms for lap in car.laps}
    assert first.rtc_time_ms in ends and second.rtc_time_ms not in ends
    # The 17-minute gap that follows is measured from the first detection.
    assert max(lap.lap_time_ms for lap in car.laps) == 1_030_768
    # With a window shorter than 2.8 s the second detection counts as a (2.8 s) lap.
    short = PitLaneTracker(
        LoopLayout([L("Finish", LoopKind.START_FINISH, AMB_DECODER)]),
        KARTS,
        double_detection_ms=2_000,
    )
    for passing in amb_passings:
        short.apply(passing)
    assert len(short.cars["161"].laps) == 30
    assert min(lap.lap_time_ms for lap in short.cars["161"].laps) == 2_767


def test_capture_resent_history_changes_nothing(amb_passings: list[P3Passing]) -> None:
    tracker = _amb_tracker(amb_passings)
    laps = {e: list(c.laps) for e, c in tracker.cars.items()}
    for passing in amb_passings:  # the decoder re-sends its history after a RESEND
        assert tracker.apply(passing) is None
    assert tracker.resent == 84
    assert {e: c.laps for e, c in tracker.cars.items()} == laps


def test_capture_on_an_unconfigured_decoder_is_ignored(amb_passings: list[P3Passing]) -> None:
    tracker = PitLaneTracker(LoopLayout([L("Finish", LoopKind.START_FINISH, 99)]))
    for passing in amb_passings:
        tracker.apply(passing)
    assert tracker.cars == {}
    assert tracker.unknown_loop == 84


def test_unmapped_transponders_are_named_like_imsa(amb_passings: list[P3Passing]) -> None:
    tracker = PitLaneTracker(LoopLayout([L("Finish", LoopKind.START_FINISH, AMB_DECODER)]))
    for passing in amb_passings:
        tracker.apply(passing)
    assert sorted(tracker.cars) == ["Tx3292480", "Tx3438895", "Tx5691251"]


# ---------------------------------------------------------------------------- pit lane


def _fields(
    enp: bool = False,
    psf: bool = False,
    exp: bool = False,
    ip: bool = False,
    lip: bool = False,
    ln: str = "",
) -> dict[str, bool | str]:
    return {"enp": enp, "psf": psf, "exp": exp, "ip": ip, "lip": lip, "ln": ln}


def test_pit_stop_with_pit_in_and_pit_out_loops() -> None:
    tracker = PitLaneTracker(ROAD, {"1001": "12"})
    car = drive(tracker, (0, SF), (30_000, T5), (60_000, SF), (90_000, T5))
    assert car.entry == "12"
    assert pit_fields(car) == _fields(ln="T5")
    assert car.laps[0].sectors == (SectorTime("SF", "T5", 30_000), SectorTime("T5", "SF", 30_000))

    drive(tracker, (110_000, PIT_IN))
    assert pit_fields(car) == _fields(enp=True, ip=True, ln="Pit In")
    assert car.pit_stops == [PitStop(1, lap=2, in_ms=110_000)]

    drive(tracker, (170_000, PIT_OUT))
    assert pit_fields(car) == _fields(enp=True, exp=True, ln="Pit Out")
    assert car.last_pit_lane_ms == 60_000

    drive(tracker, (190_000, SF))
    assert pit_fields(car) == _fields(lip=True, ln="SF")
    lap = car.laps[-1]
    assert (lap.number, lap.lap_time_ms, lap.included_pit, lap.through_pit) == (
        2,
        130_000,
        True,
        False,
    )
    # The pit lane broke the sector chain: only the sector before pit in is timed.
    assert lap.sectors == (SectorTime("SF", "T5", 30_000),)

    drive(tracker, (220_000, T5), (250_000, SF))
    assert pit_fields(car) == _fields(ln="SF")
    assert car.laps[-1].sectors == (
        SectorTime("SF", "T5", 30_000),
        SectorTime("T5", "SF", 30_000),
    )
    assert (car.pit_stop_count, car.total_pit_lane_ms) == (1, 60_000)


def test_pit_start_finish_line_in_the_pit_lane() -> None:
    tracker = PitLaneTracker(ROAD)
    car = drive(tracker, (0, SF), (50_000, PIT_IN), (60_000, PIT_SF))
    # The lap ended in the pit lane; the new lap started there and the car is still in.
    assert pit_fields(car) == _fields(psf=True, ip=True, lip=True, ln="Pit SF")
    assert car.laps[-1].through_pit and car.laps[-1].included_pit
    drive(tracker, (100_000, PIT_OUT))
    assert pit_fields(car) == _fields(psf=True, exp=True, lip=True, ln="Pit Out")
    drive(tracker, (150_000, SF))
    # The lap that started in the pit lane included the pit stop too.
    assert pit_fields(car) == _fields(lip=True, ln="SF")
    drive(tracker, (210_000, SF))
    assert pit_fields(car) == _fields(ln="SF")
    assert [lap.lap_time_ms for lap in car.laps] == [60_000, 90_000, 60_000]
    assert car.pit_stops == [PitStop(1, lap=1, in_ms=50_000, out_ms=100_000)]
    assert car.entry == "Tx1001"


def test_missed_pit_loops_still_count_the_stop() -> None:
    tracker = PitLaneTracker(ROAD)
    # Pit in missed: the pit start/finish loop is the first sign of the pit lane.
    car = drive(tracker, (0, SF), (60_000, PIT_SF), (90_000, PIT_OUT))
    assert car.pit_stops[-1] == PitStop(1, lap=1, in_ms=None, out_ms=90_000)
    # Pit out missed: the next track loop puts the car back on track.
    drive(tracker, (150_000, SF), (200_000, PIT_IN), (260_000, SF))
    assert not car.in_pit
    assert car.pit_stops[-1] == PitStop(2, lap=3, in_ms=200_000, out_ms=None)
    # Only pit out seen.
    drive(tracker, (300_000, T5), (330_000, PIT_OUT))
    assert car.pit_stops[-1] == PitStop(3, lap=4, in_ms=None, out_ms=330_000)
    assert car.pit_stop_count == 3
    assert car.last_pit_lane_ms is None and car.total_pit_lane_ms == 0
    # Lap 2 started in the pit lane (pit start/finish), so it included the stop too.
    assert [lap.included_pit for lap in car.laps] == [True, True, True]


def test_double_detection_on_a_pit_loop_and_out_of_order_crossings() -> None:
    tracker = PitLaneTracker(ROAD)
    car = drive(tracker, (0, SF), (50_000, PIT_IN), (52_800, PIT_IN), (110_000, PIT_OUT))
    assert car.duplicates == 1
    assert car.pit_stops == [PitStop(1, lap=1, in_ms=50_000, out_ms=110_000)]
    assert tracker.apply(LoopCrossing("1001", 100_000, SF)) is None
    assert tracker.out_of_order == 1
    assert car.crossings == 3


def test_two_transponders_of_one_entry_share_its_state() -> None:
    tracker = PitLaneTracker(ROAD, {"1001": "12", "2002": "12"})
    drive(tracker, (0, SF), (60_000, SF), transponder="1001")
    car = drive(tracker, (121_000, SF), transponder="2002")
    assert [lap.lap_time_ms for lap in car.laps] == [60_000, 61_000]
    assert car.transponder == "2002"


def test_lap_boundaries_from_rmonitor_when_no_start_finish_loop() -> None:
    layout = LoopLayout(
        [L("Pit In", LoopKind.PIT_IN, PIT_IN), L("Pit Out", LoopKind.PIT_OUT, PIT_OUT)]
    )
    tracker = PitLaneTracker(layout, {"1001": "12"})
    car = drive(tracker, (10_000, PIT_IN), (70_000, PIT_OUT))
    assert pit_fields(car) == _fields(enp=True, exp=True, ln="Pit Out")
    tracker.complete_lap("12")  # the RMonitor $J of car 12
    assert pit_fields(car) == _fields(lip=True, ln="Pit Out")
    tracker.complete_lap("12")
    assert pit_fields(car) == _fields(ln="Pit Out")
    assert car.laps == [] and car.last_pit_lane_ms == 60_000
    # A lap completed while still in the pit lane: the next lap includes the pit too.
    drive(tracker, (200_000, PIT_IN))
    tracker.complete_lap("12")
    tracker.complete_lap("12")
    assert pit_fields(car) == _fields(ip=True, lip=True, ln="Pit In")


# ---------------------------------------------------------------------------- configuration


def test_layout_lookup_and_validation() -> None:
    layout = LoopLayout(
        [
            L("X2 SF", LoopKind.START_FINISH, 7, loop_id=1),
            L("X2 Pit", LoopKind.PIT_IN, 7, loop_id=2),
            L("P3", LoopKind.SECTOR, 8),
        ]
    )
    assert layout.loop_for(7, 2).name == "X2 Pit"
    assert layout.loop_for(7, 3) is None
    assert layout.loop_for(8, 5).name == "P3"  # a single-loop decoder matches any loop id
    assert layout.loop_for(None) is None
    with pytest.raises(ValueError, match="two loops on decoder 8"):
        LoopLayout([L("a", LoopKind.SECTOR, 8), L("b", LoopKind.SECTOR, 8)])
    with pytest.raises(ValueError, match="two loops named 'a'"):
        LoopLayout([L("a", LoopKind.SECTOR, 8), L("a", LoopKind.SECTOR, 9)])


def test_p3_passing_as_a_crossing() -> None:
    passing = P3Passing(
        passing_number=5, rtc_time_us=1_551_542_808_933_999, tran_code="FL-94890", decoder_id=3
    )
    assert crossing_from_p3(passing) == LoopCrossing(
        transponder="FL-94890", time_ms=1_551_542_808_933, decoder_id=3, passing_number=5
    )


@settings(max_examples=150)
@given(
    steps=st.lists(
        st.tuples(st.integers(0, 120_000), st.sampled_from([SF, T5, PIT_IN, PIT_SF, PIT_OUT, 9])),
        max_size=40,
    )
)
def test_invariants_over_any_crossings(steps: list[tuple[int, int]]) -> None:
    tracker = PitLaneTracker(ROAD)
    time = 0
    for gap, decoder in steps:
        time += gap
        tracker.apply(LoopCrossing("1", time, decoder))
    car = tracker.cars.get("Tx1")
    if car is None:
        return
    assert car.crossings + car.duplicates + tracker.unknown_loop == len(steps)
    if car.laps:
        start = car.laps[0].end_ms - car.laps[0].lap_time_ms
        assert sum(lap.lap_time_ms for lap in car.laps) == car.laps[-1].end_ms - start
        assert [lap.number for lap in car.laps] == list(range(1, len(car.laps) + 1))
    for lap in car.laps:
        assert sum(s.time_ms for s in lap.sectors) <= lap.lap_time_ms
    assert all(stop.lane_ms is None or stop.lane_ms >= 0 for stop in car.pit_stops)
    if car.in_pit:  # the car is in the pit lane only during a stop that has not ended
        assert car.pit_stops and car.pit_stops[-1].out_ms is None
