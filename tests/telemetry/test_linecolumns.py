"""Line protocol into columns: a body of one shape is read whole by one pattern, and what comes
out (points, or the refusal naming a line) is what the line-by-line parser gives."""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trackside.feeds import linecolumns, lineprotocol
from trackside.feeds.linecolumns import Columns
from trackside.feeds.lineprotocol import LineProtocolError, Point, Unsigned


def exactly(points: Iterable[Point]) -> list[tuple]:
    """Points with each value's type and spelling (``1 == 1.0 == True`` would hide a change)."""
    return [
        (p.measurement, p.tags, [(k, type(v), repr(v)) for k, v in p.fields.items()], p.time_ns)
        for p in points
    ]


def outcome(body: str, precision: str = "ns") -> list | tuple:
    """The points, or (line, reason) of the refusal."""
    try:
        return exactly(lineprotocol.parse(body, precision))
    except LineProtocolError as exc:
        return (exc.line, exc.reason)


def columns_outcome(body: str, precision: str = "ns") -> list | tuple:
    try:
        return exactly(linecolumns.parse(body, precision))
    except LineProtocolError as exc:
        return (exc.line, exc.reason)


def test_a_logger_body_is_read_as_columns() -> None:
    body = "\n".join(
        f"car,session=1,car={n % 3} speed={n}.5,rpm={n * 100}i,ok=t,u={n}u {1000 + n}"
        for n in range(30)
    )
    found = linecolumns.parse(body, "ms")
    assert isinstance(found, Columns)
    assert found.series["car,session=1,car=2"] == ("car", (("car", "2"), ("session", "1")))
    assert found.values(1)[:3] == [0, 100, 200]
    assert found.doubles(2)[:2] == [1.0, 1.0]
    assert type(found.values(3)[0]) is Unsigned
    assert found.times[0] == 1000 * 1_000_000
    assert exactly(found) == exactly(lineprotocol.parse(body, "ms"))


def test_lines_without_a_time_take_the_arrival_time() -> None:
    found = linecolumns.parse("m,t=a v=1 5\nm,t=b v=2\n", "s")
    assert isinstance(found, Columns)
    assert found.times == [5_000_000_000, None]
    found.fill_times(77)
    assert [p.time_ns for p in found] == [5_000_000_000, 77]


@pytest.mark.parametrize(
    "body",
    [
        "car,car=1 speed=1.5 1\nmem used=3i 2",  # another shape
        'm,t=a v=1 1\nm,t=a s="x" 2',  # a string
        "m,t=a v=1 1\n# a comment\nm,t=a v=2 2",
        "m,t=a v=1 1\r\nm,t=a v=2 2",
        "m,t=a v=1 1\n  m,t=a v=2 2",
        "m\\ x,t=a v=1 1",
    ],
)
def test_other_bodies_are_read_line_by_line(body: str) -> None:
    found = linecolumns.parse(body)
    assert not isinstance(found, Columns)
    assert exactly(found) == exactly(lineprotocol.parse(body))


@pytest.mark.parametrize(
    "bad",
    [
        "car,car=1 speed=1e999,rpm=2i 2",
        "car,car=1 speed=1.5,rpm=99999999999999999999i 2",
        "car,car=1 speed=1.5,rpm=2i 99999999999999999999",
        "car,car=1 speed=1.5,rpm=2i 9223372036854775807",  # in range in ns only
        "car,car=1 speed=nan,rpm=2i 2",
        "car,=1 speed=1.5,rpm=2i 2",
        "car,car=1,car2 speed=1.5,rpm=2i 2",
        ",car=1 speed=1.5,rpm=2i 2",
        "car,car=1 speed=1.5,rpm=2i 2 3",
    ],
)
@pytest.mark.parametrize("precision", ["ns", "ms"])
def test_a_bad_line_is_refused_as_the_parser_refuses_it(bad: str, precision: str) -> None:
    good = "car,car=1 speed=1.5,rpm=2i 1"
    body = f"{good}\n{good}\n{bad}\n{good}"
    assert columns_outcome(body, precision) == outcome(body, precision)


FLOATS = ["1", "1.", ".5", "+2", "-0", "-0.0", "1e5", "1E-3", "2.5e+10", "12345678901234567890"]
INTS = ["0i", "-0i", "+3i", "9223372036854775807i", "-9223372036854775808i", "-5i"]
UNSIGNED = ["0u", "18446744073709551615u", "7u"]
BOOLS = ["t", "T", "true", "True", "TRUE", "f", "FALSE"]
STAMPS = ["", " 0", " -5", " 1733346000000000000", " 9223372036854775807", " +7"]
KINDS = {"f": FLOATS, "i": INTS, "u": UNSIGNED, "b": BOOLS}
BAD = ["1e999", "nan", "1_0", "9223372036854775808i", "1.5i", "18446744073709551616u", "-1u"]
BAD += ["yes", "", '"s"', "1 2"]
BAD_STAMPS = [" 1x", " 99999999999999999999", " 1 2", "  3"]


@st.composite
def bodies(draw: st.DrawFn) -> str:
    """Lines of one shape with values of every spelling, valid or not, and some odd lines."""
    names = draw(st.lists(st.sampled_from("abcdefgh"), min_size=1, max_size=4, unique=True))
    kinds = [draw(st.sampled_from("fiub")) for _ in names]
    keys = ["car,car=1", "car,car=2,s=1", "car", "car,s=x,car=3"]
    lines = []
    for _ in range(draw(st.integers(1, 8))):
        if draw(st.integers(0, 9)) == 0:
            lines.append(draw(st.sampled_from(["", "car,car=1 a=1 1 2", "car,,x=1 a=1", "car a"])))
            continue
        key = draw(st.sampled_from(keys))
        fields = ",".join(
            f"{name}={draw(st.sampled_from(KINDS[kind] * 10 + BAD))}"
            for name, kind in zip(names, kinds, strict=True)
        )
        lines.append(f"{key} {fields}{draw(st.sampled_from(STAMPS * 10 + BAD_STAMPS))}")
    return "\n".join(lines)


@settings(max_examples=400, deadline=None)
@given(body=bodies(), precision=st.sampled_from(["ns", "ms", "s"]))
def test_columns_give_what_the_parser_gives(body: str, precision: str) -> None:
    assert columns_outcome(body, precision) == outcome(body, precision)
