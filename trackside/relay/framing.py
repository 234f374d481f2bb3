"""Cutting a feed's byte stream into the units the relay forwards, one record each.

RMonitor: lines, split on any run of CR and LF (the server parses them). P3: wire frames from
``trackside.feeds.p3``'s deframer, forwarded as received (still escaped) in lower-case hex.
Neither framer interprets what it cuts: a bad record is the server's to keep and report.
"""

from __future__ import annotations

import re

from trackside.feeds.p3 import P3Deframer
from trackside.feeds.p3_records import P3Error
from trackside.feeds.rmonitor import MAX_RECORD_CHARS, decode_line

_LINE_END = re.compile(rb"[\r\n]+")
_BOM = b"\xef\xbb\xbf"


class LineSplitter:
    """Bytes in any chunks → complete lines as text; the unfinished line waits for the next.

    A line longer than ``max_line`` bytes is forwarded in pieces of that size rather than held
    without limit (each piece reaches the server, which reports it as a bad record).
    """

    def __init__(self, max_line: int = MAX_RECORD_CHARS, at_start: bool = True) -> None:
        self._partial = b""
        self._max_line = max_line
        self._started = not at_start  # a byte order mark can only open a stream

    @property
    def pending(self) -> int:
        """Bytes held for a line not yet ended."""
        return len(self._partial)

    def feed(self, chunk: bytes) -> list[str]:
        data = self._partial + chunk
        if not self._started and data:
            if len(data) < len(_BOM) and _BOM.startswith(data):
                self._partial = data  # may be the start of a byte order mark: wait
                return []
            if data.startswith(_BOM):
                data = data[len(_BOM) :]
            self._started = True
        pieces = _LINE_END.split(data)
        rest = pieces.pop()
        lines = [decode_line(piece) for piece in pieces if piece]
        while len(rest) > self._max_line:
            lines.append(decode_line(rest[: self._max_line]))
            rest = rest[self._max_line :]
        self._partial = rest
        return lines

    def cut(self) -> bytes:
        """The stream broke: drop and return the unfinished line (forwarding half a ``$J``
        would score a wrong time)."""
        rest, self._partial = self._partial, b""
        self._started = False
        return rest

    def end(self) -> list[str]:
        """The stream ended for good (a finished file): its unterminated last line counts."""
        rest = self.cut()
        return [decode_line(rest)] if rest else []


class P3Framer:
    """Bytes in any chunks → P3 wire frames as lower-case hex; counts what is not a frame."""

    def __init__(self) -> None:
        self._deframer = P3Deframer()
        self.errors = 0
        self.last_error: str | None = None

    def feed(self, chunk: bytes) -> list[str]:
        frames: list[str] = []
        for item in self._deframer.feed(chunk):
            if isinstance(item, P3Error):
                self.errors += 1
                self.last_error = f"{item.reason} ({len(item.raw)} bytes)"
            else:
                frames.append(item.hex())
        return frames

    def cut(self) -> bytes:
        """The connection broke: drop and return a frame not yet complete."""
        dropped = b"".join(error.raw for error in self._deframer.flush())
        return dropped
