from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import RMONITOR, capture
from trackside.feeds.capture import (
    decode_lines,
    feed_file,
    parse_header_ms,
    read_file,
    read_records,
    read_timed,
)
from trackside.feeds.records import CaptureBlock, FeedError, Heartbeat, RaceClass


def test_header_times_are_utc_epoch_ms() -> None:
    assert parse_header_ms("2025-04-25 12:25:35.385") == 1_745_583_935_385


# The one line in the captures that is not a record: a note someone typed into the log.
EXPECTED_ERRORS = {"barber-2025-03-01-finish.log": ["Change to 60 seconds later"]}


def test_every_capture_reads_with_only_the_known_bad_line_kept() -> None:
    for path in sorted(RMONITOR.glob("*.log")):
        records = list(read_records(path.read_bytes()))
        assert records, path
        errors = [r.record for r in records if isinstance(r.record, FeedError)]
        assert [e.raw for e in errors] == EXPECTED_ERRORS.get(path.name, []), path.name
        assert all(r.received_at_ms is not None for r in records)


def test_full_day_counts() -> None:
    records = list(read_records(capture("road-america-2025-04-25-full-day.log").read_bytes()))
    kinds = Counter(type(r.record).__name__ for r in records)
    raw = capture("road-america-2025-04-25-full-day.log").read_text("utf-8-sig").splitlines()
    assert kinds["Heartbeat"] == sum(1 for line in raw if line.startswith("$F,"))
    assert kinds["Passing"] == sum(1 for line in raw if line.startswith("$J,"))
    assert sum(kinds.values()) == sum(1 for line in raw if line.startswith("$"))


def test_bom_crlf_mix_and_cp1252_bytes() -> None:
    data = (
        b"\xef\xbb\xbf##2025-04-26 12:29:44.712\r\n"
        b'$C,1,"M\xfcller Cup"\r\r\n'
        b'$F,9999,"08:00:00","07:29:44","00:00:00","      "\n\n'
        b"##2025-04-26 12:29:45.000|p3\n8e02330000\n"
        b"##2025-04-26 12:29:46.000\r"
        b'$C,2,"Caf\xc3\xa9"\r\n'
    )
    assert decode_lines(data)[1] == '$C,1,"Müller Cup"'
    records = list(read_records(data))
    assert [type(r.record) for r in records] == [RaceClass, Heartbeat, CaptureBlock, RaceClass]
    assert records[0].record.description == "Müller Cup"
    assert records[2].record == CaptureBlock(kind="p3", text="8e02330000")
    assert records[3].record.description == "Café"
    assert records[3].received_at_ms - records[0].received_at_ms == 1_288


def test_raw_stream_without_headers() -> None:
    records = list(read_records(b'$B,5,"Race 2"\r\n$C,3,"GT4"\r\n'))
    assert [r.received_at_ms for r in records] == [None, None]
    assert len(records) == 2


@pytest.mark.parametrize("block", [7, 4096, 1 << 20])
def test_a_file_read_block_by_block_gives_the_records_of_the_whole(block: int) -> None:
    names = ["class-change-2025-10-17.log", "barber-2025-03-01-finish.log"]
    if block > 7:  # every capture, and the full day's 3 MB across several blocks
        names = sorted(p.name for p in RMONITOR.glob("*.log"))
    for name in names:
        whole = list(read_timed(capture(name).read_bytes()))
        assert list(read_file(capture(name), block=block)) == whole, name
        fed: list = []
        feed_file(capture(name), fed.append, block=block)
        assert fed == [record for _, record in whole], name


def test_blocks_split_anywhere_keep_glued_lines_bom_and_foreign_blocks(tmp_path: Path) -> None:
    data = (
        b'\xef\xbb\xbf##2025-04-25 12:25:35.385\r\n$B,5,"Race 2"\r\n'
        b'$F,9999,"00:00:00","11:46:21",$H,30,"61",17,"00:01:51.882"\n\r'
        b"##2025-04-25 12:25:36.000|p3\nsomething else\n"
        b'##2025-04-25 12:25:37.000\n$C,3,"GT4 \xe9"\n$A,"1","1",1,"open quote'
    )
    path = tmp_path / "feed.log"
    path.write_bytes(data)
    whole = list(read_timed(data))
    assert len(whole) == 6
    for block in range(1, len(data) + 1):
        assert list(read_file(path, block=block)) == whole, block
        fed: list = []
        feed_file(path, fed.append, block=block)
        assert fed == [record for _, record in whole], block
