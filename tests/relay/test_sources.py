"""TCP sources against real local servers playing real captures: exactly the capture's
records, in order, through drops, dead links and refused connections."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from tests.relay.helpers import (
    P3_CAPTURE,
    Player,
    capture_lines,
    fast_backoff,
    open_queue,
    p3_frames,
    queued,
    texts,
    wait_until,
    wire,
)
from trackside.relay.framing import LineSplitter, P3Framer
from trackside.relay.queue import AsyncRelayQueue
from trackside.relay.sources import P3, RMONITOR, Framer, TcpSource

FINISH = capture_lines("barber-2025-03-01-finish.log")
EXPECTED = texts(FINISH)
HALF = len(FINISH) // 2


@asynccontextmanager
async def running(
    tmp_path: Path, kind: str, port: int, framer: Framer, idle_timeout: float = 30.0
) -> AsyncIterator[tuple[TcpSource, AsyncRelayQueue]]:
    """A source feeding a real queue on disk, running until the block ends."""
    queue = open_queue(tmp_path / "queue.sqlite")
    await queue.register(kind, kind)

    async def sink(received_at: int, items: list[str], cursor: str | None = None) -> None:
        await queue.append(kind, received_at, items, cursor)

    source = TcpSource(
        kind, kind, "127.0.0.1", port, framer, sink,
        idle_timeout=idle_timeout, backoff=fast_backoff(),
    )  # fmt: skip
    task = asyncio.create_task(source.run())
    try:
        yield source, queue
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await queue.close()


async def test_queues_exactly_the_capture_lines_in_order(tmp_path: Path) -> None:
    assert len(FINISH) > 1000
    player = Player([wire(FINISH)], close=[False])
    port = await player.start()
    async with running(tmp_path, RMONITOR, port, LineSplitter()) as (source, _):
        await wait_until(lambda: source.status.records == len(FINISH))
        assert source.status.connected and source.status.connects == 1
    await player.stop()
    assert queued(tmp_path / "queue.sqlite", RMONITOR) == EXPECTED


async def test_reconnects_after_the_server_drops_the_connection(tmp_path: Path) -> None:
    player = Player([wire(FINISH[:HALF]), wire(FINISH[HALF:])], close=[True, False])
    port = await player.start()
    async with running(tmp_path, RMONITOR, port, LineSplitter()) as (source, _):
        await wait_until(lambda: source.status.records == len(FINISH))
        assert source.status.connects == 2
    await player.stop()
    assert queued(tmp_path / "queue.sqlite", RMONITOR) == EXPECTED


async def test_a_line_cut_by_a_drop_is_not_queued_half(tmp_path: Path) -> None:
    cut = FINISH[HALF][:10]
    first = wire(FINISH[:HALF]) + cut  # the link dies in the middle of a line
    player = Player([first, wire(FINISH[HALF:])], close=[True, False])
    port = await player.start()
    async with running(tmp_path, RMONITOR, port, LineSplitter()) as (source, _):
        await wait_until(lambda: source.status.records == len(FINISH))
        assert source.status.dropped_bytes == len(cut)
    await player.stop()
    assert queued(tmp_path / "queue.sqlite", RMONITOR) == EXPECTED


async def test_a_silent_link_is_dead_and_replaced(tmp_path: Path) -> None:
    # The first connection stays open but falls silent: no $F for the idle timeout.
    player = Player([wire(FINISH[:HALF]), wire(FINISH[HALF:])], close=[False, False])
    port = await player.start()
    async with running(tmp_path, RMONITOR, port, LineSplitter(), idle_timeout=0.3) as (src, _):
        await wait_until(lambda: src.status.records == len(FINISH))
        assert src.status.connects == 2
        assert src.status.last_error is None  # connected again
    await player.stop()
    assert queued(tmp_path / "queue.sqlite", RMONITOR) == EXPECTED


async def test_keeps_trying_until_the_feed_comes_up(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port with nothing listening on it (yet)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with running(tmp_path, RMONITOR, port, LineSplitter()) as (source, _):
        await wait_until(lambda: source.status.last_error is not None)
        assert source.status.last_error == "connect: connection refused"
        assert not source.status.connected
        player = Player([wire(FINISH[:50])], close=[False])
        await player.start(port)
        await wait_until(lambda: source.status.records == 50)
        assert source.status.connected
    await player.stop()
    assert queued(tmp_path / "queue.sqlite", RMONITOR) == EXPECTED[:50]


async def test_p3_decoder_frames_are_queued_as_received(tmp_path: Path) -> None:
    frames = p3_frames()
    half = len(frames) // 2
    # The decoder restarts mid-session: the first connection ends inside a frame.
    first = b"".join(frames[:half]) + frames[half][:7]
    player = Player([first, b"".join(frames[half:])], close=[True, False])
    port = await player.start()
    async with running(tmp_path, P3, port, P3Framer()) as (source, _):
        await wait_until(lambda: source.status.records == len(frames))
        assert source.status.connects == 2 and source.status.errors == 0
        assert source.status.dropped_bytes == 7
    await player.stop()
    expected = P3_CAPTURE.read_text().split()
    assert queued(tmp_path / "queue.sqlite", P3) == expected
