"""Where the relay's records come from: TCP feeds that it keeps connected to forever.

The timing software (RMonitor, port 50000) and a MYLAPS/AMB decoder (P3, port 5403) are TCP
servers that push records to whoever connects; nothing is sent back. A source connects, cuts
the byte stream into records with its framer, hands them to the sink (the queue) stamped with
the receive time, and on any loss — refused, reset, closed, or silent for ``idle_timeout``
(RMonitor sends ``$F`` every second, so ~30 s of silence is a dead link) — reconnects with
backoff. It never gives up: the feed may come back hours later.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from dataclasses import dataclass
from typing import Protocol

from trackside.relay.backoff import Backoff
from trackside.relay.framing import P3Framer

log = logging.getLogger("trackside.relay")

RMONITOR = "rmonitor"
P3 = "p3"
READ_SIZE = 65_536


def now_ms() -> int:
    """Epoch milliseconds UTC: the receive time the relay stamps on a record."""
    return time.time_ns() // 1_000_000


class Sink(Protocol):
    """Takes a source's records (and its new read cursor) into the queue, durably."""

    async def __call__(
        self, received_at: int, items: list[str], cursor: str | None = None
    ) -> None: ...


class Framer(Protocol):
    def feed(self, chunk: bytes) -> list[str]: ...

    def cut(self) -> bytes: ...


@dataclass(slots=True)
class SourceStatus:
    """What the status line shows of a source; counts are since the relay started."""

    connected: bool = False
    connects: int = 0
    records: int = 0
    dropped_bytes: int = 0  # unfinished lines/frames lost when a link broke
    errors: int = 0  # bytes that were not a frame (P3)
    last_error: str | None = None


def describe_error(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, OSError) and exc.errno:
        return os.strerror(exc.errno).lower()
    return str(exc) or type(exc).__name__


class TcpSource:
    """A TCP feed client that reconnects forever; see the module docstring."""

    def __init__(
        self,
        name: str,
        kind: str,
        host: str,
        port: int,
        framer: Framer,
        sink: Sink,
        *,
        idle_timeout: float = 30.0,
        connect_timeout: float = 10.0,
        backoff: Backoff | None = None,
    ) -> None:
        self.name = name
        self.kind = kind
        self.host = host
        self.port = port
        self.where = f"tcp://{host}:{port}"
        self.status = SourceStatus()
        self._framer = framer
        self._sink = sink
        self._idle_timeout = idle_timeout
        self._connect_timeout = connect_timeout
        self._backoff = backoff or Backoff()

    async def run(self) -> None:
        while True:
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(self.host, self.port), self._connect_timeout
                )
            except (OSError, TimeoutError) as exc:
                self.status.last_error = f"connect: {describe_error(exc)}"
            else:
                reason = await self._session(reader, writer)
                self.status.last_error = reason
                log.warning("%s: %s disconnected: %s", self.name, self.where, reason)
            await asyncio.sleep(self._backoff.next())

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> str:
        """One connection, from connect to loss; returns why it ended."""
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        self.status.connected = True
        self.status.connects += 1
        self.status.last_error = None
        log.info("%s: connected to %s", self.name, self.where)
        try:
            return await self._read(reader)
        except OSError as exc:
            return describe_error(exc)
        finally:
            self.status.connected = False
            dropped = self._framer.cut()
            self.status.dropped_bytes += len(dropped)
            writer.close()
            with contextlib.suppress(OSError, TimeoutError):
                await asyncio.wait_for(writer.wait_closed(), 1.0)

    async def _read(self, reader: asyncio.StreamReader) -> str:
        while True:
            try:
                chunk = await asyncio.wait_for(reader.read(READ_SIZE), self._idle_timeout)
            except TimeoutError:
                return f"no data for {self._idle_timeout:g} s (dead link)"
            if not chunk:
                return "closed by the peer"
            received_at = now_ms()
            self._backoff.reset()  # the link works: a later loss starts the backoff anew
            items = self._framer.feed(chunk)
            if isinstance(self._framer, P3Framer):
                self.status.errors = self._framer.errors
            if items:
                await self._sink(received_at, items)
                self.status.records += len(items)
