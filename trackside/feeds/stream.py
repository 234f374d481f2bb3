"""Incremental reading of a live RMonitor byte stream (TCP socket, serial line, growing file).

Bytes arrive in arbitrary chunks: a record may be split across reads and line ends may be any
mix of CR and LF. ``RMonitorStream.feed`` returns the records completed by each chunk; a
partial last line waits for the next chunk. A line that never ends is cut at a bound and kept
as an error record rather than growing without limit.
"""

from __future__ import annotations

import re

from trackside.feeds.records import FeedError, RMonitorRecord
from trackside.feeds.rmonitor import MAX_RECORD_CHARS, decode_line, parse_lines

_LINE_END = re.compile(rb"[\r\n]+")


class RMonitorStream:
    """Turns chunks of bytes into records, keeping the unfinished line between chunks."""

    def __init__(self, max_line: int = MAX_RECORD_CHARS) -> None:
        self._partial = b""
        self._max_line = max_line
        self._started = False

    def feed(self, chunk: bytes) -> list[RMonitorRecord]:
        data = self._partial + chunk
        if not self._started and data:
            if data.startswith(b"\xef\xbb\xbf"):
                data = data[3:]
            elif len(data) < 3 and b"\xef\xbb\xbf".startswith(data):
                self._partial = data  # may be the start of a BOM: wait for more
                return []
            self._started = True
        pieces = _LINE_END.split(data)
        self._partial = pieces.pop()  # bytes after the last line end (maybe empty)
        records: list[RMonitorRecord] = []
        if len(self._partial) > self._max_line:
            cut = self._partial
            self._partial = b""
            records_cut = FeedError(
                raw=decode_line(cut[:200]), reason=f"line longer than {self._max_line} bytes"
            )
            records.extend(parse_lines([decode_line(p) for p in pieces if p]))
            records.append(records_cut)
            return records
        records.extend(parse_lines([decode_line(p) for p in pieces if p]))
        return records

    def close(self) -> list[RMonitorRecord]:
        """The records of a last line that ended without a line end (end of file)."""
        rest, self._partial = self._partial, b""
        return list(parse_lines([decode_line(rest)])) if rest.strip() else []
