from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trackside.feeds.clock import (
    ClockFormatError,
    format_clock,
    format_duration,
    parse_duration_ms,
    parse_result_time_ms,
)


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("00:02:25.077", 145_077),
        ("07:25:35", 26_735_000),
        ("13:52:03.248", 49_923_248),  # Sebring 14 h
        ("24:10:00.000", 87_000_000),  # past 24 h: a duration, not a time of day
        ("123:00:00.5", 442_800_500),
        ("-00:00:05", -5_000),
        ("00:00:-47", -47_000),  # Orbits counting down to the start
        ("+00:00:00.012", 12),
        ("1:02.5", 62_500),
        ("00:00:00.1234", 123),
    ],
)
def test_durations(text: str, ms: int) -> None:
    assert parse_duration_ms(text) == ms


@pytest.mark.parametrize("text", ["", "x", "12:61:00", "1:2:3:4", "00:00:0a", "--1:00", "¹²:00:00"])
def test_bad_clock_values_raise_a_typed_error(text: str) -> None:
    with pytest.raises(ClockFormatError):
        parse_duration_ms(text)


@pytest.mark.parametrize("sentinel", ["00:59:59.999", "00:00:00.000", "", " "])
def test_sentinels_mean_no_time(sentinel: str) -> None:
    assert parse_result_time_ms(sentinel) is None


def test_formats() -> None:
    assert format_duration(787) == "0.787"
    assert format_duration(145_077) == "2:25.077"
    assert format_duration(49_923_248) == "13:52:03.248"
    assert format_duration(None) == ""
    assert format_clock(87_000_000) == "24:10:00"


@given(st.integers(min_value=0, max_value=200 * 3_600_000))
def test_format_and_parse_round_trip(ms: int) -> None:
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, f = divmod(rest, 1000)
    assert parse_duration_ms(f"{h:02d}:{m:02d}:{s:02d}.{f:03d}") == ms


@given(st.text(max_size=20))
def test_any_text_parses_or_raises_the_typed_error(text: str) -> None:
    try:
        value = parse_duration_ms(text)
    except ClockFormatError:
        return
    assert isinstance(value, int)
