"""Readers for recorded feeds: relay captures and raw RMonitor streams.

Capture format (``../shared/data/rmonitor``): blocks headed ``##YYYY-MM-DD HH:MM:SS.fff[|type]``
holding the relay's receive time in UTC, followed by the lines received. A block whose type is
not ``rmonitor`` is another source's data and is kept as a ``CaptureBlock`` record. A file with
no headers is a raw RMonitor stream. Line ends may be any mix of CR and LF; bytes are UTF-8 or
Windows-1252, per line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

from trackside.feeds.clock import parse_duration_ms
from trackside.feeds.records import Received
from trackside.feeds.rmonitor import RMONITOR, decode_line, parse_stream

_HEADER = re.compile(
    r"##(\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?)(?:\|([\w.-]*))?\s*$"
)


def decode_lines(data: bytes) -> list[str]:
    """Split bytes on any run of CR/LF and decode each line (UTF-8, else Windows-1252)."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return [decode_line(chunk) for chunk in re.split(rb"[\r\n]+", data) if chunk]
    return [line for line in re.split(r"[\r\n]+", text) if line]


_day_ms: dict[str, int] = {}


def parse_header_ms(stamp: str) -> int:
    """Epoch milliseconds of a capture header time ``YYYY-MM-DD HH:MM:SS.fff`` (UTC)."""
    day, _, clock = stamp.replace("T", " ").partition(" ")
    base = _day_ms.get(day)
    if base is None:
        base = int(datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp()) * 1000
        _day_ms[day] = base
    if len(clock) > 12:  # microseconds: round to milliseconds
        clock = clock[:12]
    return base + parse_duration_ms(clock)


def read_header(line: str) -> tuple[int | None, str] | None:
    """A capture block header's receive time and kind, or None if the line is not a header."""
    match = _HEADER.match(line.lstrip("\ufeff"))
    if match is None:
        return None
    try:
        return parse_header_ms(match.group(1)), (match.group(2) or RMONITOR).lower()
    except ValueError:
        return None


def read_records(data: bytes) -> Iterator[Received]:
    """Every record of a capture or raw stream, in file order, with its receive time."""
    for received, record in parse_stream(decode_lines(data), read_header):
        yield Received(received, record)
