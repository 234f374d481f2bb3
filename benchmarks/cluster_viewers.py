"""Viewer processes for ``benchmarks/cluster.py``: thousands of ``picows`` WebSocket clients in
one event loop, spread over the cluster's nodes.

A viewer behaves as a live client must (``trackside/events/routes/stream.py``): the first
message is a snapshot (its ``version`` is the viewer's base, update ``k`` is version
``base + k + 1``); a patch that does not follow the last version, or of another epoch, makes
it send ``{"type": "resync"}`` and wait for a fresh snapshot, which brings every update up to
its version. Arrival times are ``CLOCK_MONOTONIC`` (comparable across processes) and counted
per update in a shared array, as ``live_subscribers.py`` does, so the driver sees when an
update has reached every viewer.

A **drop** is a viewer that lost its connection before the end, or that saw a gap and had no
fresh snapshot by the end: a viewer a real page would have shown stale.

The driver talks to a process over a pipe: ``("connect", urls, count)``, ``("collect",)``,
``("close",)``, ``("exit",)``; each answers with one dict.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import MutableSequence
from multiprocessing.connection import Connection
from typing import Any

from live_subscribers import Tally, raise_fd_limit, serve, start, version_of
from picows import WSFrame, WSListener, WSMsgType, WSTransport, ws_connect

CONNECT_CONCURRENCY = 64  # handshakes in flight per process
CONNECT_TIMEOUT_S = 60.0
RESYNC = b'{"type":"resync"}'
_EPOCH = b'"epoch":'
_SNAPSHOT = b'{"type":"snapshot"'
_PING = b'{"type":"ping"'


class Viewer(WSListener):
    """One connection: the snapshot, then patches checked for gaps and epochs."""

    def __init__(self, tally: Tally) -> None:
        self.tally = tally
        self.transport: WSTransport | None = None
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.base: int | None = None
        self.epoch: int | None = None
        self.version = -1
        self.seen = -1  # the last update index this viewer has
        self.resyncs = 0
        self.epochs_changed = 0
        self.waiting = False  # asked for a snapshot after a gap, not yet given one
        self.lost = False
        self.closing = False
        self._parts: list[bytes] = []

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.transport = transport

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        at = time.monotonic()
        kind = frame.msg_type
        if kind == WSMsgType.CLOSE:
            transport.disconnect()
            return
        if kind != WSMsgType.TEXT and kind != WSMsgType.CONTINUATION:
            return
        if not frame.fin:
            self._parts.append(frame.get_payload_as_bytes())
            return
        data = frame.get_payload_as_bytes()
        if self._parts:
            data = b"".join([*self._parts, data])
            self._parts.clear()
        self._message(data, at)

    def _message(self, data: bytes, at: float) -> None:
        if data.startswith(_PING):
            return
        version = version_of(data)
        if version is None:
            return
        epoch = version_of(data, _EPOCH)
        if data.startswith(_SNAPSHOT):
            self.waiting = False
            if self.base is None:
                self.base, self.epoch, self.version = version, epoch, version
                if not self.opened.done():
                    self.opened.set_result(None)
                return
            if epoch != self.epoch:  # a new processor run: versions start again
                self.epochs_changed += 1
                self.epoch = epoch
                self.base = version - self.seen - 1  # the updates it had stay counted
        elif self.waiting:
            return  # patches before the asked-for snapshot are of no use
        elif epoch != self.epoch or version != self.version + 1:
            self._resync()
            return
        self.version = version
        index = version - (self.base or 0) - 1
        tally = self.tally
        while self.seen < index:  # a snapshot brings every update up to its version
            self.seen += 1
            tally.got(self.seen, at)

    def _resync(self) -> None:
        self.resyncs += 1
        self.waiting = True
        if self.transport is not None:
            self.transport.send(WSMsgType.TEXT, RESYNC)

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        if not self.closing:
            self.lost = True
        if not self.opened.done():
            self.opened.set_exception(ConnectionError("disconnected before the snapshot"))

    def close(self) -> None:
        self.closing = True
        if self.transport is not None:
            self.transport.send_close()
            self.transport.disconnect()


class Worker:
    """The viewers of one process and the commands the driver sends it."""

    def __init__(self, counts: MutableSequence[int], row: int, updates: int) -> None:
        self.row = row
        self.tally = Tally(counts, row, updates)
        self.viewers: list[Viewer] = []
        self.errors: list[str] = []

    async def connect(self, urls: list[str], count: int) -> dict[str, Any]:
        """``count`` viewers, the ``i``-th on ``urls[(row + i) % len(urls)]``: every node gets
        its share whatever the number of processes."""
        first = self.row
        self.tally.reset()
        self.viewers, self.errors = [], []
        gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
        per_url = [0] * len(urls)

        async def one(index: int) -> None:
            node = (first + index) % len(urls)
            async with gate:
                viewer = Viewer(self.tally)
                try:
                    await ws_connect(lambda: viewer, urls[node], websocket_handshake_timeout=30)
                    await asyncio.wait_for(viewer.opened, CONNECT_TIMEOUT_S)
                except Exception as exc:  # refused, reset, timed out: counted, not fatal
                    if len(self.errors) < 5:
                        self.errors.append(repr(exc))
                    return
            self.viewers.append(viewer)
            per_url[node] += 1

        started = time.monotonic()
        await asyncio.gather(*(one(index) for index in range(count)))
        return {
            "connected": len(self.viewers),
            "per_node": per_url,
            "errors": self.errors,
            "bases": sorted({v.base for v in self.viewers if v.base is not None}),
            "epochs": sorted({v.epoch for v in self.viewers if v.epoch is not None}),
            "seconds": round(time.monotonic() - started, 3),
        }

    def collect(self) -> dict[str, Any]:
        viewers = self.viewers
        return {
            "first": list(self.tally.first),
            "last": list(self.tally.last),
            "seen": [v.seen for v in viewers],
            "lost": sum(v.lost for v in viewers),
            "stale": sum(v.waiting and not v.lost for v in viewers),
            "resyncs": sum(v.resyncs for v in viewers),
            "viewers_resynced": sum(v.resyncs > 0 for v in viewers),
            "epochs_changed": sum(v.epochs_changed for v in viewers),
        }

    async def close(self) -> dict[str, Any]:
        for viewer in self.viewers:
            viewer.close()
        await asyncio.sleep(0.2)  # let the close frames go out
        closed, self.viewers = len(self.viewers), []
        return {"closed": closed}


def run(pipe: Connection, counts: MutableSequence[int], row: int, updates: int) -> None:
    """A viewer process's entry point (``multiprocessing`` target)."""
    raise_fd_limit()
    start(serve(pipe, Worker(counts, row, updates)))
