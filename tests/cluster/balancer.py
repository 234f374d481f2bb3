"""A load balancer without sticky sessions, for tests: each TCP connection goes to the node a
rule picks from its first request line, and the balancer then only copies bytes both ways.

A client that talks to the balancer's one URL cannot tell which node answers, as behind a
real balancer; ``routed`` records which node each request went to, so a test can show that
negotiate and the socket really reached different nodes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

MAX_HEAD = 64 * 1024


class Balancer:
    """Listens on a free loopback port; ``pick(method, target)`` names the backend URL
    (``http://host:port``) of a connection from its first request."""

    def __init__(self, pick: Callable[[str, str], str]) -> None:
        self.pick = pick
        self.routed: list[tuple[str, str, str]] = []  # (method, target, backend)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            method, target, _ = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ", 2)
            backend = self.pick(method, target)
            self.routed.append((method, target, backend))
            where = urlsplit(backend)
            up_reader, up_writer = await asyncio.open_connection(where.hostname, where.port)
            up_writer.write(head)
            await asyncio.gather(_copy(reader, up_writer), _copy(up_reader, writer))
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        except asyncio.CancelledError:
            pass  # the balancer is closing: end as a dropped connection, not as an error
        finally:
            writer.close()
            self._tasks.discard(task)

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, limit=MAX_HEAD)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in tuple(self._tasks):
            task.cancel()
        for task in tuple(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _copy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Bytes one way until the sender is done; then the other side is told so."""
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        with contextlib.suppress(OSError, RuntimeError):
            if writer.can_write_eof():
                writer.write_eof()


@asynccontextmanager
async def balancing(pick: Callable[[str, str], str]) -> AsyncIterator[Balancer]:
    balancer = Balancer(pick)
    await balancer.start()
    try:
        yield balancer
    finally:
        await balancer.close()
