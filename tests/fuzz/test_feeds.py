"""The feed parsers under mutated real input: no exception escapes, and every line or frame
becomes exactly what the parser promises — a typed record, or an error record with a reason.

CI runs a few hundred mutations per parser; ``pytest -m long`` runs over a million lines each.
"""

from __future__ import annotations

import random
import typing
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.feeds.test_controllog import WRL
from tests.fuzz import mutations
from trackside.feeds import line_reader, p3, rmonitor
from trackside.feeds.controllog import parse_control_log
from trackside.feeds.controllog_records import ControlLogBadRow, ControlLogEntry
from trackside.feeds.p3_records import P3Error, P3Message, P3Passing, P3Status
from trackside.feeds.records import FeedError, RMonitorRecord

RMONITOR_TYPES = typing.get_args(RMonitorRecord)
DAY_MS = 24 * 3600 * 1000
CI = settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LONG_BATCH = 1000  # mutated lines per example in the long runs
LONG = settings(max_examples=1000, deadline=None, database=None)


def check_rmonitor_line(line: str) -> None:
    """Every line gives typed records or errors with a reason; and the fast csv path and the
    careful one-by-one path read it the same way (the careful one trims a BOM and spaces at
    the ends of a line, so they are compared on a trimmed line)."""
    for record in rmonitor.parse_lines([line]):
        assert isinstance(record, RMONITOR_TYPES), record
        if isinstance(record, FeedError):
            assert record.reason, record
    trimmed = line.strip(" \ufeff\r\n")
    fast = list(rmonitor.parse_lines([trimmed]))
    slow = list(line_reader._slow_records(trimmed))
    assert [_comparable(r) for r in fast] == [_comparable(r) for r in slow], trimmed


def _comparable(record: object) -> object:
    # An error's raw text is the line as cut by whichever path read it.
    return ("error", record.reason) if isinstance(record, FeedError) else record


def check_p3_frame(frame: bytes) -> None:
    record = p3.decode_frame(frame)
    assert isinstance(record, P3Passing | P3Status | P3Message | P3Error), record
    if isinstance(record, P3Error):
        assert record.reason
        return
    # A frame that decodes is one the encoder gives back, and decodes to the same record.
    assert p3.decode_frame(p3.encode(record)) == record
    hexed = p3.decode_hex_frame(frame.hex())
    assert hexed == record


def check_p3_stream(frames: list[bytes], cuts: list[int]) -> None:
    stream = b"".join(frames)
    chunks, start = [], 0
    for cut in sorted(c % (len(stream) + 1) for c in cuts):
        chunks.append(stream[start:cut])
        start = cut
    chunks.append(stream[start:])
    for record in p3.parse_stream(chunks):
        assert isinstance(record, P3Passing | P3Status | P3Message | P3Error), record


def check_control_log(text: str) -> None:
    rows = parse_control_log(text)
    numbers = [row.row for row in rows]
    assert numbers == sorted(set(numbers)), "each row once, in sheet order"
    for row in rows:
        assert isinstance(row, ControlLogEntry | ControlLogBadRow), row
        if isinstance(row, ControlLogBadRow):
            assert row.reason
        else:
            assert 0 <= row.time_of_day_ms < DAY_MS, row


def mutated_sheet(rng: random.Random) -> str:
    lines = WRL.splitlines()
    for _ in range(rng.randrange(1, 4)):
        i = rng.randrange(len(lines))
        lines[i] = mutations.mutate_text(lines[i], rng)
    return "\n".join(lines) + "\n"


# --- CI: hypothesis drives every choice, so a failure shrinks to a small example ---------------


@CI
@given(st.randoms(use_true_random=False))
def test_rmonitor_lines(rng: random.Random) -> None:
    check_rmonitor_line(mutations.rmonitor_line(rng))


@CI
@given(st.randoms(use_true_random=False))
def test_p3_frames(rng: random.Random) -> None:
    check_p3_frame(mutations.p3_frame(rng))


@settings(max_examples=200, deadline=None)
@given(st.randoms(use_true_random=False), st.lists(st.integers(0, 10**6), max_size=8))
def test_p3_stream_cut_anywhere(rng: random.Random, cuts: list[int]) -> None:
    check_p3_stream([mutations.p3_frame(rng) for _ in range(rng.randrange(1, 6))], cuts)


@settings(max_examples=400, deadline=None)
@given(st.randoms(use_true_random=False))
def test_control_log_sheets(rng: random.Random) -> None:
    check_control_log(mutated_sheet(rng))


# --- long: hypothesis picks seeds, each expands to a thousand lines -------------------------


LONG_RUNS: dict[str, tuple[Callable[[random.Random], None], int]] = {
    "rmonitor": (lambda rng: check_rmonitor_line(mutations.rmonitor_line(rng)), LONG_BATCH),
    "p3": (lambda rng: check_p3_frame(mutations.p3_frame(rng)), LONG_BATCH),
    # A sheet holds 17 rows, a few of them mutated: 60 sheets per example, > 10⁶ rows read.
    "controllog": (lambda rng: check_control_log(mutated_sheet(rng)), 60),
}


@pytest.mark.long
@pytest.mark.parametrize("feed", sorted(LONG_RUNS))
def test_a_million_mutated_lines(feed: str) -> None:
    check, per_example = LONG_RUNS[feed]

    @LONG
    @given(st.integers(0, 2**64))
    def run(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(per_example):
            check(rng)

    run()
