"""Subscriber processes for ``benchmarks/live.py``: many WebSocket clients in one event loop.

Each process holds its share of the connections and, for every update, notes the
``CLOCK_MONOTONIC`` time its frame arrived (the clock is the machine's, so times compare across
processes) and the bytes received. Clients are the websockets library's Sans-I/O
``ClientProtocol`` driven straight from ``asyncio.Protocol.data_received``: no task per
connection, so the load generator spends as little CPU per frame as it can and the server is
what gets measured. A connection offers permessage-deflate (as browsers do) when asked to.

Per connection: the message bytes (decompressed, pings aside), a CRC-32 of those messages in
order (to compare with what an offline replay computes), and the bytes on the wire (everything
the socket delivered after the handshake: frame headers, compressed payloads, pings).

A message's version is read from the start of its JSON (``{"type":…,"version":n,…``): the
first message a connection gets (the snapshot) sets its base, and version ``base + k + 1`` is
update ``k``. A later snapshot (a resync after a gap) counts as receiving every update up to
its version. Each process counts, in a shared array row of its own, how many of its
connections have each update, so the driver knows when an update has reached everyone.

The driver talks to a process over a pipe: ``("connect", url, count)``, ``("collect",)``,
``("close",)``, ``("exit",)``; each answers with one dict.
"""

from __future__ import annotations

import asyncio
import contextlib
import resource
import time
import zlib
from collections.abc import MutableSequence
from multiprocessing.connection import Connection
from typing import Any, cast
from urllib.parse import urlsplit

from websockets.client import ClientProtocol
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.uri import parse_uri

CONNECT_CONCURRENCY = 50  # handshakes in flight per process (well under the server's backlog)
CONNECT_TIMEOUT_S = 60.0
_VERSION = b'"version":'
_EPOCH = b'"epoch":'
_PING = b'{"type":"ping"'
_INF = float("inf")


def raise_fd_limit() -> int:
    """Lift the soft open-files limit to the hard one; returns the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def version_of(data: bytes, key: bytes = _VERSION) -> int | None:
    """The ``version`` (or another number ``key`` names) of a live message, read from its
    first bytes without parsing it all."""
    start = data.find(key, 0, 64)
    if start < 0:
        return None
    start += len(key)
    end = start
    while end < len(data) and 48 <= data[end] <= 57:
        end += 1
    return int(data[start:end]) if end > start else None


class Tally:
    """What one process's connections received, per update."""

    def __init__(self, counts: MutableSequence[int], row: int, updates: int) -> None:
        self.counts = counts
        self.offset = row * updates
        self.updates = updates
        self.first = [_INF] * updates
        self.last = [0.0] * updates

    def reset(self) -> None:
        for index in range(self.updates):
            self.counts[self.offset + index] = 0
            self.first[index] = _INF
            self.last[index] = 0.0

    def got(self, index: int, at: float) -> None:
        if index >= self.updates:
            return
        if at > self.last[index]:
            self.last[index] = at
        if at < self.first[index]:
            self.first[index] = at
        self.counts[self.offset + index] += 1


class Subscriber(asyncio.Protocol):
    """One WebSocket connection: handshake, then frames parsed as they arrive."""

    def __init__(self, url: str, tally: Tally, deflate: bool = False) -> None:
        extensions = [ClientPerMessageDeflateFactory()] if deflate else None
        self.protocol = ClientProtocol(parse_uri(url), max_size=None, extensions=extensions)
        self.deflate = deflate
        self.tally = tally
        self.transport: asyncio.Transport | None = None
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.base: int | None = None
        self.seen = -1  # the last update index this connection has
        self.bytes = 0
        self.wire = 0
        self.digest = 0
        self.epoch: int | None = None
        self.snapshot_bytes = 0
        self.snapshots = 0
        self.lost = False
        self._parts: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.protocol.send_request(self.protocol.connect())
        self._flush()

    def data_received(self, data: bytes) -> None:
        at = time.monotonic()
        if self.base is not None:
            self.wire += len(data)
        protocol = self.protocol
        protocol.receive_data(data)
        for event in protocol.events_received():
            if type(event) is Frame:
                self._frame(event, at)
            elif isinstance(event, Response) and event.status_code != 101:
                self._fail(ConnectionError(f"handshake answered {event.status_code}"))
        self._flush()  # pongs, and the close handshake

    def _frame(self, frame: Frame, at: float) -> None:
        opcode = frame.opcode
        if opcode is Opcode.CLOSE:
            self._fail(ConnectionError("server closed the socket"))
            return
        if opcode not in (Opcode.BINARY, Opcode.TEXT, Opcode.CONT):
            return
        if not frame.fin:
            self._parts.append(bytes(frame.data))
            return
        data = bytes(frame.data)
        if self._parts:
            data = b"".join([*self._parts, data])
            self._parts.clear()
        self._message(data, at)

    def _message(self, data: bytes, at: float) -> None:
        if data.startswith(_PING):
            return
        self.bytes += len(data)
        self.digest = zlib.crc32(data, self.digest)
        version = version_of(data)
        if version is None:
            return
        snapshot = data.startswith(b'{"type":"snapshot"')
        if self.base is None:
            self.base = version
            self.epoch = version_of(data, _EPOCH)
            self.snapshot_bytes = len(data)
            if not self.opened.done():
                self.opened.set_result(None)
            return
        if snapshot:
            self.snapshots += 1
        index = version - self.base - 1
        tally = self.tally
        while self.seen < index:  # a resync snapshot brings every update up to its version
            self.seen += 1
            tally.got(self.seen, at)

    def _flush(self) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        for chunk in self.protocol.data_to_send():
            if chunk:
                transport.write(chunk)

    def _fail(self, exc: Exception) -> None:
        if not self.opened.done():
            self.opened.set_exception(exc)
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if not self.opened.done():
            self.opened.set_exception(exc or ConnectionError("connection lost"))

    def close(self) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        with contextlib.suppress(Exception):
            self.protocol.send_close(1000)
            self._flush()
        self.transport.close()


class Worker:
    """The connections of one process and the commands the driver sends it."""

    def __init__(self, counts: MutableSequence[int], row: int, updates: int) -> None:
        self.tally = Tally(counts, row, updates)
        self.subscribers: list[Subscriber] = []
        self.errors: list[str] = []

    async def connect(self, url: str, deflate: str, count: int) -> dict[str, Any]:
        """``deflate``: "on", "off", or "mixed" (every other connection offers it)."""
        self.tally.reset()
        self.subscribers = []
        self.errors = []
        loop = asyncio.get_running_loop()
        parts = urlsplit(url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

        async def one(index: int) -> None:
            offer = deflate == "on" or (deflate == "mixed" and index % 2 == 0)
            async with gate:
                try:
                    _, subscriber = await loop.create_connection(
                        lambda: Subscriber(url, self.tally, offer), host, port
                    )
                    await asyncio.wait_for(subscriber.opened, CONNECT_TIMEOUT_S)
                except (OSError, ConnectionError, TimeoutError) as exc:
                    if len(self.errors) < 5:
                        self.errors.append(repr(exc))
                    return
                self.subscribers.append(subscriber)

        started = time.monotonic()
        await asyncio.gather(*(one(index) for index in range(count)))
        bases = sorted({s.base for s in self.subscribers if s.base is not None})
        return {
            "epochs": sorted({s.epoch for s in self.subscribers if s.epoch is not None}),
            "connected": len(self.subscribers),
            "failed": count - len(self.subscribers),
            "errors": self.errors,
            "bases": bases,
            "seconds": round(time.monotonic() - started, 3),
        }

    def collect(self) -> dict[str, Any]:
        subscribers = self.subscribers
        return {
            "first": list(self.tally.first),
            "last": list(self.tally.last),
            "bytes": [s.bytes for s in subscribers],
            "digests": [s.digest for s in subscribers],
            "wire": [(s.deflate, s.wire) for s in subscribers],
            "snapshot_bytes": [s.snapshot_bytes for s in subscribers],
            "resyncs": sum(s.snapshots for s in subscribers),
            "lost": sum(s.lost for s in subscribers),
        }

    async def close(self) -> dict[str, Any]:
        for subscriber in self.subscribers:
            subscriber.close()
        await asyncio.sleep(0.2)  # let the close frames go out
        closed = len(self.subscribers)
        self.subscribers = []
        return {"closed": closed}


async def serve(pipe: Connection, worker: Any) -> None:
    """Answer the driver's commands (connect, collect, close, exit) for ``worker``; the
    cluster benchmark's viewer processes speak the same."""
    while True:
        command = await asyncio.to_thread(pipe.recv)
        name = command[0]
        try:
            if name == "connect":
                reply = await worker.connect(*command[1:])
            elif name == "collect":
                reply = worker.collect()
            elif name == "close":
                reply = await worker.close()
            elif name == "exit":
                await worker.close()
                pipe.send({"exit": True})
                return
            else:
                reply = {"error": f"unknown command {name!r}"}
        except Exception as exc:  # report, never die silently: the driver is waiting
            reply = {"error": repr(exc)}
        pipe.send(reply)


def run(pipe: Connection, counts: MutableSequence[int], row: int, updates: int) -> None:
    """A subscriber process's entry point (``multiprocessing`` target)."""
    raise_fd_limit()
    start(serve(pipe, Worker(counts, row, updates)))


def start(main: Any) -> None:
    """Run a process's main coroutine on uvloop when it is installed."""
    try:
        import uvloop

        runner = uvloop.run
    except ImportError:  # the plain asyncio loop measures the same, a little slower
        runner = asyncio.run
    runner(main)
