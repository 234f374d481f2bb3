"""The relay program: every source feeds the queue, one uploader per source empties it.

Sources and uploaders are independent tasks joined only by the queue on disk, so an outage of
the server never slows the reading of a feed, and a dead feed never stops the upload of what
was read. SIGINT and SIGTERM stop it cleanly; nothing needs flushing, since every record is on
disk before it is counted, so SIGKILL loses nothing either.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import Protocol

import httpx
from rich.console import Console
from rich.live import Live

from trackside.relay.auth import TokenClient
from trackside.relay.backoff import Backoff
from trackside.relay.config import RelayConfig, SourceSpec
from trackside.relay.follower import FileSource
from trackside.relay.framing import LineSplitter, P3Framer
from trackside.relay.queue import AsyncRelayQueue, RelayQueue
from trackside.relay.sources import P3, Sink, SourceStatus, TcpSource
from trackside.relay.status import Channel, line, table
from trackside.relay.uploader import Uploader

HTTP_TIMEOUT = httpx.Timeout(20.0, connect=5.0)

log = logging.getLogger("trackside.relay")


class Source(Protocol):
    status: SourceStatus

    async def run(self) -> None: ...


def _sink(queue: AsyncRelayQueue, channel: Channel) -> Sink:
    async def sink(received_at: int, items: list[str], cursor: str | None = None) -> None:
        channel.queued = await queue.append(channel.name, received_at, items, cursor)

    return sink


def _backoff(config: RelayConfig) -> Backoff:
    return Backoff(base=min(1.0, config.retry_max), cap=config.retry_max)


def build_source(spec: SourceSpec, sink: Sink, cursor: str | None, config: RelayConfig) -> Source:
    if spec.path is not None:
        return FileSource(spec.name, spec.path, sink, cursor)
    assert spec.host is not None and spec.port is not None
    framer = P3Framer() if spec.kind == P3 else LineSplitter()
    return TcpSource(
        spec.name, spec.kind, spec.host, spec.port, framer, sink,
        idle_timeout=config.idle_timeout, backoff=_backoff(config),
    )  # fmt: skip


class Relay:
    def __init__(
        self, config: RelayConfig, console: Console | None = None, status_every: float = 30.0
    ) -> None:
        self.config = config
        self.console = console or Console()
        self.channels: list[Channel] = []
        self._status_every = status_every

    async def run(self, stop: asyncio.Event) -> None:
        """Relay until ``stop`` is set; a task that fails (a bug) stops the relay and raises."""
        config = self.config
        queue = AsyncRelayQueue(RelayQueue(config.queue_path))
        try:
            async with httpx.AsyncClient(timeout=HTTP_TIMEOUT) as http:
                tokens = TokenClient(http, config.server, config.client_id, config.client_secret)
                tasks = []
                for spec in config.sources:
                    state = await queue.register(spec.name, spec.kind)
                    uploader = Uploader(
                        http, tokens, queue, config.server, config.event_id, spec.name,
                        spec.kind, backoff=_backoff(config),
                        slow_retry=2 * config.retry_max,
                    )  # fmt: skip
                    channel = Channel(
                        spec.name, spec.where, SourceStatus(), uploader.status, state.last_seq
                    )
                    source = build_source(spec, _sink(queue, channel), state.cursor, config)
                    channel.source = source.status
                    self.channels.append(channel)
                    tasks.append(asyncio.create_task(source.run(), name=f"source {spec.name}"))
                    tasks.append(asyncio.create_task(uploader.run(), name=f"upload {spec.name}"))
                tasks.append(asyncio.create_task(self._show(), name="status"))
                await self._until_stopped(stop, tasks)
        finally:
            await queue.close()

    async def _until_stopped(self, stop: asyncio.Event, tasks: list[asyncio.Task[None]]) -> None:
        stopper = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait([*tasks, stopper], return_when=asyncio.FIRST_COMPLETED)
        for task in [*tasks, stopper]:
            task.cancel()
        await asyncio.gather(*tasks, stopper, return_exceptions=True)
        for task in done:
            if task is not stopper and not task.cancelled():
                error = task.exception()
                if error is not None:
                    raise error

    async def _show(self) -> None:
        """A live status line on a terminal; elsewhere, logged every ``status_every`` seconds."""
        if self.console.is_terminal:
            render = lambda: table(self.config.server, self.config.event_id, self.channels)  # noqa: E731
            with Live(get_renderable=render, console=self.console, refresh_per_second=2):
                await asyncio.Event().wait()  # until cancelled
        while True:
            await asyncio.sleep(self._status_every)
            for channel in self.channels:
                log.info("status: %s", line(channel).plain)


async def _main(config: RelayConfig, console: Console) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await Relay(config, console).run(stop)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(sig)


def run_relay(config: RelayConfig, console: Console) -> None:
    """Run the relay in this process until SIGINT or SIGTERM."""
    asyncio.run(_main(config, console))
