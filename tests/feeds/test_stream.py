from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import capture
from trackside.feeds.capture import read_records
from trackside.feeds.records import FeedError, Heartbeat, RaceClass
from trackside.feeds.stream import RMonitorStream


def test_records_split_across_chunks() -> None:
    stream = RMonitorStream()
    assert stream.feed(b'\xef\xbb\xbf$C,1,"G') == []
    assert stream.feed(b'T3"\r') == [RaceClass(1, "GT3")]
    got = stream.feed(b'\n$F,9999,"00:00:00","07:25:35","00:00:00","      "\n$C,2,')
    assert [type(r) for r in got] == [Heartbeat]
    assert stream.close() != []  # "$C,2," at end of file: kept as an error record
    assert stream.close() == []


def test_endless_line_is_cut_and_reported() -> None:
    stream = RMonitorStream(max_line=100)
    records = stream.feed(b"$A," + b"x" * 500)
    assert len(records) == 1 and isinstance(records[0], FeedError)
    assert stream.feed(b'\n$C,1,"A"\n') == [RaceClass(1, "A")]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=4000), min_size=1, max_size=40))
def test_any_chunking_gives_the_same_records_as_the_whole_file(cuts: list[int]) -> None:
    raw = capture("road-america-2025-04-26-grid.log").read_bytes()
    lines = [
        line for line in raw.split(b"\n") if not line.lstrip(b"\xef\xbb\xbf").startswith(b"##")
    ]
    body = b"\n".join(lines)
    expected = [r.record for r in read_records(body)]
    stream = RMonitorStream()
    got = []
    at = 0
    for size in cuts:
        got += stream.feed(body[at : at + size])
        at += size
    got += stream.feed(body[at:])
    got += stream.close()
    assert got == expected
