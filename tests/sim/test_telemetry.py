"""The demo's simulated logger channels: consistent with the laps the feed times."""

from __future__ import annotations

from trackside.commands.demo_race import simulated_feed
from trackside.sim.telemetry import CORNERS, TOP_KMH, channels, crossings, progress_at, sample


def test_channels_follow_the_track() -> None:
    for at, apex, _ in CORNERS:
        corner = channels(at)
        assert abs(corner["speed"] - TOP_KMH * apex) < 1
        braking = channels(at - 0.02)
        assert braking["brake"] > 0 and braking["throttle"] == 0
        leaving = channels(at + 0.02)
        assert leaving["throttle"] > 0 and leaving["brake"] == 0
    fast = channels(0.0)
    assert fast["gear"] == 6 and fast["rpm"] > 9000
    assert 1 <= channels(0.46)["gear"] <= 3
    assert channels(0.0)["lat"] == channels(0.999999)["lat"]  # back where it started


def test_cars_are_placed_by_their_crossings() -> None:
    feed = simulated_feed(7, 6)
    laps = crossings((item.at_ms, item.line) for item in feed)
    assert len(laps) == 24
    times = next(iter(laps.values()))
    assert times == sorted(times) and len(times) >= 2
    assert progress_at(times, times[0] - 1) is None
    assert progress_at(times, times[0]) == 0
    middle = (times[0] + times[1]) // 2
    assert abs(progress_at(times, middle) - 0.5) < 0.01  # type: ignore[operator]
    on_track = sample(laps, times[0] + 1000)
    assert 1 <= len(on_track) <= 24
    assert set(on_track[0][1]) == {"speed", "throttle", "brake", "rpm", "gear", "lat", "lon"}
