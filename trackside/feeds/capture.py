"""Readers for recorded feeds: relay captures and raw RMonitor streams.

Capture format (``../shared/data/rmonitor``): blocks headed ``##YYYY-MM-DD HH:MM:SS.fff[|type]``
holding the relay's receive time in UTC, followed by the lines received. A block whose type is
not ``rmonitor`` is another source's data and is kept as a ``CaptureBlock`` record. A file with
no headers is a raw RMonitor stream. Line ends may be any mix of CR and LF; bytes are UTF-8 or
Windows-1252, per line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from trackside.feeds.clock import MILLIS_MS, SECONDS_MS, parse_duration_ms
from trackside.feeds.line_reader import Emit, LineReader, Timed, parse_stream
from trackside.feeds.records import CaptureBlock, Received, RMonitorRecord
from trackside.feeds.rmonitor import RMONITOR, decode_line

_HEADER = re.compile(
    r"##(\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?)(?:\|([\w.-]*))?\s*$"
)


# Line boundaries str.splitlines() honours beyond CR and LF; RMonitor lines end in CR/LF only.
_OTHER_BREAKS = ("\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")


def decode_lines(data: bytes) -> list[str]:
    """Split bytes on any run of CR/LF and decode each line (UTF-8, else Windows-1252)."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return [decode_line(chunk) for chunk in re.split(rb"[\r\n]+", data) if chunk]
    if any(mark in text for mark in _OTHER_BREAKS):
        return [line for line in re.split(r"[\r\n]+", text) if line]
    return [line for line in text.splitlines() if line]


_minute_ms: dict[str, int] = {}


def parse_header_ms(stamp: str) -> int:
    """Epoch milliseconds of a capture header time ``YYYY-MM-DD HH:MM:SS.fff`` (UTC)."""
    minute = stamp[:16]
    base = _minute_ms.get(minute)
    if base is None:
        when = datetime.fromisoformat(minute.replace(" ", "T")).replace(tzinfo=UTC)
        base = int(when.timestamp()) * 1000
        if len(_minute_ms) > 10_000:
            _minute_ms.clear()
        _minute_ms[minute] = base
    rest = stamp[17:]
    if len(rest) > 6:  # sub-millisecond digits: keep milliseconds
        rest = rest[:6]
    return base + parse_duration_ms("00:00:" + rest)


def read_header(line: str) -> tuple[int | None, str] | None:
    """A capture block header's receive time and kind, or None if the line is not a header."""
    if line[:1] == "\ufeff":
        line = line[1:]
    # Fast path for the common "##YYYY-MM-DD HH:MM:SS.fff" with no type.
    if len(line) == 25 and line[12] == " " and line[18] == ":" and line[21] == ".":
        base = _minute_ms.get(line[2:18])
        seconds = SECONDS_MS.get(line[19:21])
        millis = MILLIS_MS.get(line[22:25])
        if base is not None and seconds is not None and millis is not None:
            return base + seconds + millis, RMONITOR
        try:
            return parse_header_ms(line[2:]), RMONITOR
        except ValueError:
            pass
    match = _HEADER.match(line)
    if match is None:
        return None
    try:
        kind = (match.group(2) or RMONITOR).lower()
        return parse_header_ms(match.group(1).replace("T", " ")), (
            RMONITOR if kind == RMONITOR else kind
        )
    except ValueError:
        return None


def read_timed(data: bytes) -> Iterator[tuple[int | None, RMonitorRecord | CaptureBlock]]:
    """Every record of a capture or raw stream, in file order, as ``(received_at_ms, record)``."""
    return parse_stream(decode_lines(data), read_header)


# Bytes read at a time by ``read_file``: big enough for csv to run long, small enough to stream.
BLOCK_BYTES = 1 << 20


def _blocks(path: Path, block: int, on_read: Callable[[int], None] | None) -> Iterator[list[str]]:
    """A file's lines, decoded one block of whole lines at a time."""
    partial = b""
    with Path(path).open("rb") as file:
        while chunk := file.read(block):
            if on_read is not None:
                on_read(len(chunk))
            data = partial + chunk
            end = max(data.rfind(b"\n"), data.rfind(b"\r")) + 1
            if end == 0:
                partial = data  # no line end yet
                continue
            partial = data[end:]
            yield decode_lines(data[:end])
    if partial:
        yield decode_lines(partial)


def read_file(
    path: Path, block: int = BLOCK_BYTES, on_read: Callable[[int], None] | None = None
) -> Iterator[Timed]:
    """``read_timed`` of a file, read block by block so no size of file is held whole.

    ``on_read`` hears how many bytes each block added (for a progress bar).
    """
    reader = LineReader(read_header)
    for lines in _blocks(path, block, on_read):
        yield from reader.parse(lines)
    yield from reader.finish()


def feed_file(
    path: Path,
    emit: Emit,
    block: int = BLOCK_BYTES,
    on_read: Callable[[int], None] | None = None,
    on_block: Emit | None = None,
) -> None:
    """Every record of a file, in order, to ``emit`` (e.g. an engine's ``apply``): the fastest
    way through a file when receive times do not matter. Typed blocks go to ``on_block`` if
    given."""
    reader = LineReader(read_header, on_block)
    for lines in _blocks(path, block, on_read):
        reader.feed(lines, emit)
    reader.flush(emit)


def read_records(data: bytes) -> Iterator[Received]:
    """Every record of a capture or raw stream, in file order, with its receive time."""
    for received, record in parse_stream(decode_lines(data), read_header):
        yield Received(received, record)
