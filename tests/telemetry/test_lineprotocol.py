"""The line-protocol parser: InfluxDB's escaping, field types, precision, errors by line."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trackside.feeds.lineprotocol import (
    LineProtocolError,
    Point,
    Unsigned,
    format_point,
    parse,
)


def one(text: str, precision: str = "ns") -> Point:
    points = parse(text, precision)
    assert len(points) == 1
    return points[0]


def test_a_plain_line() -> None:
    p = one("car,car=7,session=3 speed=212.4,rpm=11250i,gear=6i 1733346000000000000")
    assert p.measurement == "car"
    assert p.tags == (("car", "7"), ("session", "3"))
    assert p.fields == {"speed": 212.4, "rpm": 11250, "gear": 6}
    assert type(p.fields["rpm"]) is int
    assert p.time_ns == 1733346000000000000


def test_field_types() -> None:
    p = one('m n=1,g=-1.2e+78,h=.5,i=-12i,u=12u,s="a b, c=d",t=t,T=TRUE,f=False,x=F')
    assert p.fields["n"] == 1.0 and type(p.fields["n"]) is float
    assert p.fields["g"] == -1.2e78
    assert p.fields["h"] == 0.5
    assert p.fields["i"] == -12
    assert isinstance(p.fields["u"], Unsigned) and p.fields["u"] == 12
    assert p.fields["s"] == "a b, c=d"
    assert (p.fields["t"], p.fields["T"], p.fields["f"], p.fields["x"]) == (
        True,
        True,
        False,
        False,
    )
    assert p.time_ns is None


def test_escapes() -> None:
    p = one(r'my\ m\,x,tag\ key=va\,l\=ue,b=2 field\=k="say \"hi\" \\ there",n=1 5')
    assert p.measurement == "my m,x"
    assert p.tags == (("b", "2"), ("tag key", "va,l=ue"))
    assert p.fields == {"field=k": 'say "hi" \\ there', "n": 1.0}
    assert p.time_ns == 5


@pytest.mark.parametrize(
    ("precision", "factor"),
    [("ns", 1), ("us", 1000), ("ms", 10**6), ("s", 10**9), ("h", 3600 * 10**9)],
)
def test_precision(precision: str, factor: int) -> None:
    assert one("m v=1 17", precision).time_ns == 17 * factor


def test_comments_blank_lines_and_crlf() -> None:
    points = parse(b"# a comment\n\nm v=1 1\r\n  \nm v=2 2\n")
    assert [p.fields["v"] for p in points] == [1.0, 2.0]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("m", "missing fields"),
        ("m,t=1", "missing fields"),
        ("m f=", "no value"),
        ("m f=abc", "invalid value"),
        ("m f=nan", "invalid value"),
        ("m f=1x", "invalid value"),
        ("m f=1.2.3", "invalid value"),
        ("m f=99999999999999999999i", "out of range"),
        ("m f=-1u", "invalid value"),
        ("m,t= f=1", "empty value"),
        ("m,=x f=1", "empty tag key"),
        ("m _f=1", "reserved"),
        ("m,_t=1 f=1", "reserved"),
        ("m f=1 12x", "invalid timestamp"),
        ("m f=1 1 2", "after the timestamp"),
        (",t=1 f=1", "missing measurement"),
        ('m s="open', "unterminated"),
        ("m f=1,", "not key=value"),
    ],
)
def test_bad_lines_name_their_line(line: str, reason: str) -> None:
    with pytest.raises(LineProtocolError) as caught:
        parse(f"ok v=1 1\n# comment\n{line}\nok v=2 2")
    assert caught.value.line == 3
    assert reason in caught.value.message
    assert "line 3" in caught.value.message


def test_invalid_utf8_names_its_line() -> None:
    with pytest.raises(LineProtocolError) as caught:
        parse(b"m v=1\nm,t=\xff v=1")
    assert caught.value.line == 2


def test_long_strings_are_refused() -> None:
    with pytest.raises(LineProtocolError, match="longer than"):
        parse('m s="' + "x" * (64 * 1024 + 1) + '"')


def test_unknown_precision() -> None:
    with pytest.raises(ValueError, match="precision"):
        parse("m v=1", "fortnights")


names = st.text(
    st.characters(codec="utf-8", exclude_characters="\n\r\t\\"), min_size=1, max_size=12
)
keys = names.filter(lambda s: not s.startswith("_") and s.strip() == s and s != "")
values = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(-(2**63), 2**63 - 1),
    st.booleans(),
    st.text(st.characters(codec="utf-8", exclude_characters="\n\r"), max_size=20),
)


@given(
    measurement=keys.filter(lambda s: not s.startswith("#")),  # a line starting # is a comment
    tags=st.dictionaries(keys, keys, max_size=3),
    fields=st.dictionaries(keys, values, min_size=1, max_size=4),
    time_ns=st.none() | st.integers(-(2**62), 2**62),
)
def test_what_is_printed_parses_back(measurement, tags, fields, time_ns) -> None:  # type: ignore[no-untyped-def]
    point = Point(measurement, tuple(sorted(tags.items())), fields, time_ns)
    back = one(format_point(point))
    assert back == point


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("car,car=1 speed=1e999,rpm=2i 2", "not a finite number"),
        ("car,car=1 speed=1.5,rpm=99999999999999999999i 2", "integer out of range"),
        ("car,car=1 speed=1.5,rpm=2i 99999999999999999999", "out of range"),
        ("car,car=1 speed=nan,rpm=2i 2", "invalid value"),
        ("car,car=1 speed=1_0,rpm=2i 2", "invalid value"),
        ("car,car=1 speed=1.5,rpm= 2", "no value"),
        ("car,car=1 speed=1.5,rpm=2i 2 3", "after the timestamp"),
    ],
)
def test_lines_shaped_like_the_last_of_their_series_are_checked_alike(
    line: str, reason: str
) -> None:
    """A line of a known series and field shape takes a faster reader; what it cannot vouch
    for goes the general way, so the same faults are refused with the same line number."""
    good = "car,car=1 speed=1.5,rpm=2i 1"
    with pytest.raises(LineProtocolError) as caught:
        parse(f"{good}\n{good}\n{line}\n{good}")
    assert caught.value.line == 3
    assert reason in caught.value.reason


def test_the_fast_reader_gives_what_the_general_one_does() -> None:
    lines = [
        "car,car=1 speed=1.5,rpm=2i,ok=t,u=3u 10",
        "car,car=1 speed=-.5e-3,rpm=-7i,ok=FALSE,u=18446744073709551615u 11",
        "car,car=1 speed=+2,rpm=+3i,ok=True,u=0u",
        "car,car=1 speed=1e5,rpm=9223372036854775807i,ok=f,u=1u 12",
        "car,car=1 speed=3.,rpm=4i,ok=T,u=2u -5",
    ]
    together = parse("\n".join(lines), "ms", default_time_ns=99)
    alone = [parse(line, "ms", default_time_ns=99)[0] for line in lines]
    assert together == alone
    assert [type(v) for v in together[1].fields.values()] == [float, int, bool, Unsigned]
    assert together[2].time_ns == 99 and together[4].time_ns == -5_000_000
