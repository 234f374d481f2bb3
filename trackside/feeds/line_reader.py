"""Many RMonitor lines at once, fast: whole captures, or a large file read block by block.

One C ``csv`` reader splits every line of a batch and Python only dispatches; lines csv would
misread are re-read one by one (``feeds.rmonitor`` does the careful reading). A ``LineReader``
keeps the capture-header state between batches, so a file read in blocks gives exactly the
records of the file read whole, without ever holding all of them.
"""

from __future__ import annotations

import csv
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from trackside.feeds.records import CaptureBlock, FeedError, RMonitorRecord
from trackside.feeds.rmonitor import (
    _PARSERS,
    MAX_RECORD_CHARS,
    RMONITOR,
    parse_line,
    split_glued,
)

HeaderReader = Callable[[str], tuple[int | None, str] | None]
Timed = tuple[int | None, RMonitorRecord | CaptureBlock]
Emit = Callable[[RMonitorRecord | CaptureBlock], object]


class LineReader:
    """Parses successive batches of one feed's lines into records.

    ``read_header`` recognises capture block headers (``##…``) and returns the block's receive
    time and kind: ``received`` is the receive time of the records being handed out; lines of
    blocks that are not RMonitor become ``CaptureBlock`` records, the last one at ``flush``;
    they go to ``on_block`` when one is given.
    """

    def __init__(
        self, read_header: HeaderReader | None = None, on_block: Emit | None = None
    ) -> None:
        self.read_header = read_header
        self.on_block = on_block  # where blocks go, when not to ``emit`` with the records
        self.received: int | None = None
        self.kind = RMONITOR
        self.foreign: list[str] = []

    def parse(self, lines: Sequence[str]) -> Iterator[Timed]:
        """Every record of ``lines`` as ``(received_at_ms, record)``; never raises."""
        out: list[Timed] = []
        append = out.append
        self.feed(lines, lambda record: append((self.received, record)))
        return iter(out)

    def finish(self) -> Iterator[Timed]:
        """The block of foreign lines still open, if any."""
        out: list[Timed] = []
        self.flush(lambda record: out.append((self.received, record)))
        return iter(out)

    def feed(self, lines: Sequence[str], emit: Emit) -> None:
        """Hand every record of ``lines`` to ``emit`` in order (no tuple, no generator: the
        replay hot path); never raises but what ``emit`` raises.

        csv joins lines after an odd quote (seen as ``line_num`` jumping) and a second ``$``
        may be a glued record: such lines are re-read one by one.
        """
        # A closing empty line: csv swallows it when the last real line leaves a quote open,
        # which shows as a line_num jump like any other join.
        lines = [*lines, ""]
        reader = csv.reader(lines, skipinitialspace=True)
        parsers = _PARSERS
        read_header = self.read_header
        kind = self.kind
        prev = 0
        while True:
            try:
                for fields in reader:
                    num = reader.line_num
                    if num - prev != 1 or not fields:
                        # csv joined lines (an open quote), or a blank line: one by one.
                        for raw in lines[prev:num]:
                            self._slow_line(raw, emit)
                        kind = self.kind
                        prev = num
                        continue
                    raw = lines[prev]
                    prev = num
                    if kind is RMONITOR:
                        parser = parsers.get(fields[0])
                        # What the careful path refuses, csv may read as one row: a stray quote
                        # inside an unquoted field (no join), a NUL byte, a giant line, text
                        # before the ``$`` (csv reads ``""$A`` as ``$A``).
                        if (
                            parser is not None
                            and raw[:1] == "$"
                            and raw.count("$") == 1
                            and not raw.count('"') % 2
                            and "\x00" not in raw
                            and len(raw) <= MAX_RECORD_CHARS
                        ):
                            try:
                                record = parser(fields)
                            except ValueError as exc:
                                record = FeedError(raw, str(exc))
                            emit(record)
                            continue
                    if raw[:2] == "##" and read_header is not None:
                        self._slow_line(raw, emit)
                        kind = self.kind
                    elif kind is not RMONITOR:
                        self.foreign.append(raw)
                    else:
                        for record in _slow_records(raw):
                            emit(record)
                break
            except csv.Error:
                # Defensive (NUL bytes, giant fields): read the offending lines the slow way.
                num = reader.line_num
                for raw in lines[prev:num]:
                    for record in _slow_records(raw):
                        emit(record)
                prev = num

    def _slow_line(self, raw: str, emit: Emit) -> None:
        """One line that may be a capture header, foreign data or records."""
        if not raw:
            return  # the closing empty line of a batch (decoding drops blank lines)
        header = _header(raw, self.read_header)
        if header is not None:
            self.flush(emit)
            self.received, self.kind = header
        elif self.kind is not RMONITOR:
            self.foreign.append(raw)
        else:
            for record in _slow_records(raw):
                emit(record)

    def flush(self, emit: Emit) -> None:
        """Hand out the block of foreign lines still open, if any."""
        if self.foreign:
            block = CaptureBlock(kind=self.kind, text="\n".join(self.foreign))
            self.foreign = []
            (self.on_block or emit)(block)


def read_line(raw: str) -> RMonitorRecord | None:
    """The record of one stored line, as ``LineReader.feed`` reads a plain line; None when the
    line needs the careful reader (``parse_lines``).

    The relay stores one line per log record, and the server decodes each as it comes: this is
    ``feed``'s fast path for that one line, without the reader, the generators and the lists a
    batch needs (they cost several times the parse itself). Same checks, same ``csv`` call,
    so a line gives exactly the record ``parse_lines((raw,))`` gives.
    """
    if (
        raw[:1] != "$"
        or raw.count("$") != 1
        or raw.count('"') % 2
        or "\x00" in raw
        or len(raw) > MAX_RECORD_CHARS
    ):
        return None
    reader, lines = _one_line_reader()
    lines.pending = ["", raw]  # popped from the end; "": as ``feed``, shows a join
    read = reader.line_num
    try:
        fields = next(reader)
    except (csv.Error, StopIteration):
        return None
    if reader.line_num - read != 1 or not fields:
        return None  # an open quote joined the lines: read one by one
    parser = _PARSERS.get(fields[0])
    if parser is None:
        return None
    try:
        return parser(fields)
    except ValueError as exc:
        return FeedError(raw, str(exc))


class _Lines:
    """What ``read_line``'s reader reads, handed over one call at a time."""

    __slots__ = ("pending",)

    def __init__(self) -> None:
        self.pending: list[str] = []

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if self.pending:
            return self.pending.pop()
        raise StopIteration


_readers = threading.local()


def _one_line_reader() -> tuple[Any, _Lines]:
    """This thread's csv reader for ``read_line``: building a reader cost more than reading a
    line with it, and a reader starts every row afresh (only ``line_num`` carries on)."""
    try:
        return _readers.reader  # type: ignore[no-any-return]
    except AttributeError:
        lines = _Lines()
        _readers.reader = csv.reader(lines, skipinitialspace=True), lines
        return _readers.reader  # type: ignore[no-any-return]


def parse_stream(lines: Sequence[str], read_header: HeaderReader | None = None) -> Iterator[Timed]:
    """Parse lines into ``(received_at_ms, record)`` pairs; never raises."""
    reader = LineReader(read_header)
    yield from reader.parse(lines)
    yield from reader.finish()


def _header(raw: str, read_header: HeaderReader | None) -> tuple[int | None, str] | None:
    if read_header is None or raw[:2] != "##":
        return None
    header = read_header(raw)
    if header is None:
        return None
    # The interned constant, so the hot loop can compare kinds with ``is``.
    return header[0], RMONITOR if header[1] == RMONITOR else header[1]


def _slow_records(line: str) -> Iterator[RMonitorRecord]:
    """One raw line, possibly holding glued records, read carefully."""
    text = line.strip("\r\n\ufeff")
    if not text.strip():
        return
    if text.count("$") <= 1:
        yield _slow_record(text)
        return
    for fragment, cut in split_glued(text.strip()):
        frag = fragment.strip()
        if cut and (frag.endswith(",") or frag.count('"') % 2):
            yield FeedError(raw=frag, reason="truncated record (another record starts inside it)")
        else:
            yield _slow_record(frag)


def _slow_record(text: str) -> RMonitorRecord:
    if "\x00" in text:
        return FeedError(raw=text, reason="NUL byte inside a record")
    if len(text) > MAX_RECORD_CHARS:
        return FeedError(raw=text[:200], reason=f"record longer than {MAX_RECORD_CHARS} characters")
    return parse_line(text)
