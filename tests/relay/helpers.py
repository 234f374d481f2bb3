"""Real feeds for the relay tests: capture lines and decoder frames, played over real TCP."""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from tests.conftest import DATA, capture
from trackside.feeds.rmonitor import decode_line
from trackside.relay.backoff import Backoff
from trackside.relay.queue import AsyncRelayQueue, RelayQueue

P3_CAPTURE = DATA / "p3" / "amb.out"


def capture_lines(name: str) -> list[bytes]:
    """The RMonitor (``$``) lines of a capture, as bytes without line ends."""
    raw = capture(name).read_bytes()
    return [line for line in re.split(rb"[\r\n]+", raw) if line.startswith(b"$")]


def texts(lines: list[bytes]) -> list[str]:
    """What the relay must queue for these lines."""
    return [decode_line(line) for line in lines]


def wire(lines: list[bytes], end: bytes = b"\r\n") -> bytes:
    return b"".join(line + end for line in lines)


def p3_frames() -> list[bytes]:
    """The decoder capture's wire frames (one hex line each), as bytes."""
    return [bytes.fromhex(line) for line in P3_CAPTURE.read_text().split()]


def fast_backoff(seed: int = 1) -> Backoff:
    return Backoff(base=0.01, cap=0.05, rng=random.Random(seed))


def chunks(data: bytes, rng: random.Random, largest: int = 700) -> list[bytes]:
    """``data`` cut at random places, as a TCP peer's writes may arrive."""
    out, at = [], 0
    while at < len(data):
        size = rng.randint(1, largest)
        out.append(data[at : at + size])
        at += size
    return out


class Player:
    """A feed server on 127.0.0.1: the n-th connection gets ``plays[n]`` in random chunks,
    then is closed (``close=True``) or left open and silent. Later connections get nothing."""

    def __init__(self, plays: list[bytes], close: list[bool], seed: int = 7) -> None:
        self.plays = plays
        self.close = close
        self.connections = 0
        self._rng = random.Random(seed)
        self._server: asyncio.Server | None = None
        self._open: list[asyncio.StreamWriter] = []

    async def start(self, port: int = 0) -> int:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", port)
        return self._server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        n = self.connections
        self.connections += 1
        self._open.append(writer)
        if n < len(self.plays):
            for piece in chunks(self.plays[n], self._rng):
                writer.write(piece)
                await writer.drain()
                await asyncio.sleep(0)  # paced: let the relay read between writes
            if self.close[n]:
                writer.close()
                return
        await reader.read()  # stay open until the client goes

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._open:
            writer.close()
        await self._server.wait_closed()


async def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll ``condition``; fail the test if it is not met within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


def open_queue(path: Path) -> AsyncRelayQueue:
    return AsyncRelayQueue(RelayQueue(path))


def queued(path: Path, source: str) -> list[str]:
    """What is committed in the queue file for ``source``, in seq order (read through a
    connection of its own), checking that the seqs run 1..n."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        rows = db.execute(
            "SELECT seq, data FROM records WHERE source = ? ORDER BY seq", (source,)
        ).fetchall()
    assert [seq for seq, _ in rows] == list(range(1, len(rows) + 1))
    return [data for _, data in rows]
