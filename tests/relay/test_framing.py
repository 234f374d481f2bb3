"""Cutting feed bytes into records: RMonitor lines and P3 wire frames, in any chunking."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.relay.helpers import capture_lines, chunks, p3_frames, texts, wire
from trackside.feeds.p3 import read_hex_capture
from trackside.feeds.p3_records import P3Passing
from trackside.relay.framing import LineSplitter, P3Framer

GRID = capture_lines("road-america-2025-04-26-grid.log")
FRAMES = p3_frames()


def test_lines_end_at_any_run_of_cr_and_lf() -> None:
    splitter = LineSplitter()
    assert splitter.feed(b'\xef\xbb\xbf$F,1\r\r\n\n$C,1,"GT3"\n$J,"2') == ["$F,1", '$C,1,"GT3"']
    assert splitter.pending == 5
    assert splitter.feed(b'1","00:01:00.000"\r') == ['$J,"21","00:01:00.000"']
    assert splitter.feed(b"\n\n") == []
    assert splitter.pending == 0


def test_a_byte_order_mark_split_across_reads_is_dropped_only_at_the_start() -> None:
    splitter = LineSplitter()
    assert splitter.feed(b"\xef") == []
    assert splitter.feed(b"\xbb\xbf$F,1\n\xef\xbb\xbf$F,2\n") == ["$F,1", "\ufeff$F,2"]
    assert LineSplitter(at_start=False).feed(b"\xef\xbb\xbf$F,1\n") == ["\ufeff$F,1"]


def test_windows_1252_lines_are_decoded_like_the_parser_does() -> None:
    assert LineSplitter().feed(b'$A,"7","7",1,"J\xe9r\xf4me","","",1\n') == [
        '$A,"7","7",1,"Jérôme","","",1'
    ]


def test_a_broken_link_drops_the_unfinished_line() -> None:
    splitter = LineSplitter()
    assert splitter.feed(b'$F,1\n$J,"21","00:02:03.8') == ["$F,1"]
    assert splitter.cut() == b'$J,"21","00:02:03.8'
    assert splitter.feed(b'$J,"21","00:02:03.826","01:42:17.672"\n') == [
        '$J,"21","00:02:03.826","01:42:17.672"'
    ]


def test_the_end_of_a_file_ends_its_last_line() -> None:
    splitter = LineSplitter()
    assert splitter.feed(b"$F,1\n$F,2") == ["$F,1"]
    assert splitter.end() == ["$F,2"]
    assert splitter.end() == []


def test_an_endless_line_is_forwarded_in_bounded_pieces() -> None:
    splitter = LineSplitter(max_line=100)
    assert splitter.feed(b"$A," + b"x" * 247) == ["$A," + "x" * 97, "x" * 100]
    assert splitter.pending == 50
    assert splitter.feed(b"\n$F,1\n") == ["x" * 50, "$F,1"]


@settings(max_examples=40, deadline=None)
@given(
    st.integers(0, 2**32),
    st.integers(1, 3000),
    st.sampled_from([b"\r\n", b"\n", b"\r", b"\r\r\n"]),
)
def test_any_chunking_of_a_capture_gives_its_lines(seed: int, largest: int, end: bytes) -> None:
    splitter = LineSplitter()
    pieces = chunks(wire(GRID, end), random.Random(seed), largest)
    got = [line for piece in pieces for line in splitter.feed(piece)]
    assert got == texts(GRID)
    assert splitter.pending == 0


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**32), st.integers(1, 3000))
def test_any_chunking_of_the_decoder_capture_gives_its_frames(seed: int, largest: int) -> None:
    framer = P3Framer()
    pieces = chunks(b"".join(FRAMES), random.Random(seed), largest)
    got = [frame for piece in pieces for frame in framer.feed(piece)]
    assert got == [frame.hex() for frame in FRAMES]
    assert framer.errors == 0


def test_forwarded_frames_are_the_wire_bytes_escapes_included() -> None:
    escaped = [frame for frame in FRAMES if 0x8D in frame]
    assert len(escaped) == 5  # the capture's README: five frames carry escapes
    framer = P3Framer()
    got = framer.feed(b"".join(escaped))
    assert [bytes.fromhex(h) for h in got] == escaped
    records = list(read_hex_capture("\n".join(got)))  # what the server will decode
    assert all(isinstance(r, P3Passing) for r in records)


def test_bytes_outside_frames_are_counted_not_forwarded() -> None:
    framer = P3Framer()
    got = framer.feed(b"junk" + FRAMES[0] + b"\x00\x01" + FRAMES[1] + FRAMES[2][:9])
    assert got == [FRAMES[0].hex(), FRAMES[1].hex()]
    assert framer.errors == 2  # "junk" and the two bytes before FRAMES[1]
    assert framer.cut() == FRAMES[2][:9]  # the link broke inside a frame
    assert framer.feed(FRAMES[3]) == [FRAMES[3].hex()]
