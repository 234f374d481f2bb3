"""Following a growing RMonitor file, like ``tail -F``, without losing or repeating a line.

Some timing setups write the feed to a file (a serial logger, the timing software's own log)
rather than serving it over TCP. The follower reads complete lines as they are appended and
hands them to the sink together with a cursor — the file's identity and the offset after the
last complete line — which the queue stores in the same transaction as the lines. After a
restart it resumes at that offset if the file is still the same one, so every line is queued
exactly once.

It survives the file being rotated (renamed or deleted and created anew: it reads the old file
to its end, then starts the new one at its beginning) and truncated in place (it starts again
from the beginning). A file is "the same one" when device, inode and the hash of its first
bytes agree, so a new file that happens to reuse the inode is not mistaken for the old one.

Limits, as for ``tail -F``: lines written to a file after it was rotated away and noticed are
not read, and lines appended to a file that was rotated away while the relay was down are not
read either. Capture block headers (``##time``, the relay capture format) are metadata, not
RMonitor lines, and are not forwarded.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from trackside.feeds.capture import read_header
from trackside.relay.framing import LineSplitter
from trackside.relay.sources import RMONITOR, Sink, SourceStatus, describe_error, now_ms

log = logging.getLogger("trackside.relay")

# Reads are synchronous: a bounded read of a local file takes far less than a loop tick, and a
# read in a worker thread could outlive the file being closed under it on shutdown.
READ_SIZE = 256 * 1024
HEAD_BYTES = 256


@dataclass(frozen=True, slots=True)
class FileCursor:
    """Where the follower stopped: which file, and the offset after the last complete line."""

    dev: int
    ino: int
    offset: int
    head: str  # sha256 of the file's first min(offset, HEAD_BYTES) bytes

    def dumps(self) -> str:
        return json.dumps(
            {"dev": self.dev, "ino": self.ino, "offset": self.offset, "head": self.head}
        )

    @classmethod
    def loads(cls, text: str | None) -> FileCursor | None:
        """The cursor stored by a previous run; None if there is none or it is unreadable."""
        if not text:
            return None
        try:
            raw = json.loads(text)
            return cls(int(raw["dev"]), int(raw["ino"]), int(raw["offset"]), str(raw["head"]))
        except (ValueError, KeyError, TypeError):
            return None


def _head(fd: int, offset: int) -> str:
    return hashlib.sha256(os.pread(fd, min(offset, HEAD_BYTES), 0)).hexdigest()


def _identity(stat: os.stat_result) -> tuple[int, int]:
    return stat.st_dev, stat.st_ino


class FileSource:
    """Follows ``path``; ``cursor`` is what the queue holds for this source from a past run."""

    kind = RMONITOR

    def __init__(
        self, name: str, path: Path, sink: Sink, cursor: str | None = None, poll: float = 0.2
    ) -> None:
        self.name = name
        self.path = Path(path)
        self.where = str(path)
        self.status = SourceStatus()
        self._sink = sink
        self._cursor = FileCursor.loads(cursor)  # the last cursor the queue holds
        self._poll = poll

    async def run(self) -> None:
        while True:
            fh = await self._open()
            try:
                await self._follow(fh)
                self._cursor = None  # rotated: the file that replaced it is read from its start
            except OSError as exc:  # e.g. a network share went away: reopen, resume at cursor
                self.status.last_error = f"read: {describe_error(exc)}"
                log.warning("%s: reading %s failed: %s", self.name, self.path,
                            describe_error(exc))  # fmt: skip
                await asyncio.sleep(self._poll)
            finally:
                self.status.connected = False
                fh.close()

    async def _open(self) -> io.FileIO:
        while True:
            try:
                fh = io.FileIO(self.path, "r")
            except OSError as exc:
                self.status.last_error = f"waiting for the file: {exc.strerror or exc}"
                await asyncio.sleep(self._poll)
                continue
            self.status.connected = True
            self.status.connects += 1
            self.status.last_error = None
            log.info("%s: following %s", self.name, self.path)
            return fh

    def _start_offset(self, fd: int) -> int:
        """Where to begin in a newly opened file: the saved offset if it is the same file."""
        cursor = self._cursor
        if cursor is None:
            return 0
        stat = os.fstat(fd)
        same = (
            (cursor.dev, cursor.ino) == _identity(stat)
            and stat.st_size >= cursor.offset
            and _head(fd, cursor.offset) == cursor.head
        )
        if not same:
            log.warning("%s: %s is not the file read before; reading it from the start",
                        self.name, self.path)  # fmt: skip
        return cursor.offset if same else 0

    async def _follow(self, fh: io.FileIO) -> None:
        """Read one file until it is rotated away (forever if it never is)."""
        fd = fh.fileno()
        identity = _identity(os.fstat(fd))
        pos = self._start_offset(fd)
        fh.seek(pos)
        splitter = LineSplitter(at_start=pos == 0)
        while True:
            data = fh.read(READ_SIZE)
            if data:
                pos += len(data)
                await self._emit(splitter.feed(data), fd, identity, pos - splitter.pending)
                continue
            if os.fstat(fd).st_size < pos:  # truncated in place (copytruncate)
                dropped = splitter.cut()
                self.status.dropped_bytes += len(dropped)
                log.warning("%s: %s was truncated; reading it from the start", self.name,
                            self.path)  # fmt: skip
                pos = 0
                fh.seek(0)
                splitter = LineSplitter()
                self._cursor = None
                continue
            if self._rotated(identity):
                while data := fh.read(READ_SIZE):  # the rest of the old file
                    pos += len(data)
                    await self._emit(splitter.feed(data), fd, identity, pos - splitter.pending)
                await self._emit(splitter.end(), fd, identity, pos)
                log.info("%s: %s was rotated; following the new file", self.name, self.path)
                return
            await asyncio.sleep(self._poll)

    def _rotated(self, identity: tuple[int, int]) -> bool:
        """Another file now stands at the path (a missing path: the writer may recreate it)."""
        with contextlib.suppress(OSError):
            return _identity(os.stat(self.path)) != identity
        return False

    async def _emit(self, lines: list[str], fd: int, identity: tuple[int, int], end: int) -> None:
        lines = [line for line in lines if not (line[:2] == "##" and read_header(line))]
        if not lines:
            return
        cursor = FileCursor(identity[0], identity[1], end, _head(fd, end))
        await self._sink(now_ms(), lines, cursor.dumps())
        self._cursor = cursor
        self.status.records += len(lines)
