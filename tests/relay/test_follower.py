"""Following a growing RMonitor file: appends, partial lines, rotation, truncation, restarts."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from tests.conftest import capture
from tests.relay.helpers import capture_lines, open_queue, queued, texts, wait_until, wire
from trackside.feeds.capture import decode_lines, read_header
from trackside.relay.follower import FileSource

LINES = capture_lines("road-america-2025-04-26-grid.log")
EXPECTED = texts(LINES)
NAME = "rmonitor-file"


@asynccontextmanager
async def following(tmp_path: Path, path: Path) -> AsyncIterator[FileSource]:
    """A follower of ``path`` feeding the queue in ``tmp_path``, resuming from its cursor."""
    queue = open_queue(tmp_path / "queue.sqlite")
    state = await queue.register(NAME, "rmonitor")

    async def sink(received_at: int, items: list[str], cursor: str | None = None) -> None:
        await queue.append(NAME, received_at, items, cursor)

    source = FileSource(NAME, path, sink, state.cursor, poll=0.01)
    task = asyncio.create_task(source.run())
    try:
        yield source
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await queue.close()


def append(path: Path, data: bytes) -> None:
    with path.open("ab") as fh:
        fh.write(data)


def in_queue(tmp_path: Path) -> list[str]:
    return queued(tmp_path / "queue.sqlite", NAME)


async def test_follows_appends_and_waits_for_the_end_of_a_line(tmp_path: Path) -> None:
    log = tmp_path / "feed.log"
    data = wire(LINES)
    middle = data.index(b"\r\n", len(data) // 2) + 5  # inside a line
    async with following(tmp_path, log) as source:
        await wait_until(lambda: source.status.last_error is not None)  # no file yet
        append(log, data[:middle])
        first = data[:middle].count(b"\r\n")
        await wait_until(lambda: source.status.records == first)
        assert source.status.connected
        append(log, data[middle:])
        await wait_until(lambda: source.status.records == len(LINES))
    assert in_queue(tmp_path) == EXPECTED


async def test_a_restart_resumes_at_the_saved_offset(tmp_path: Path) -> None:
    log = tmp_path / "feed.log"
    third = len(LINES) // 3
    append(log, wire(LINES[:third]) + LINES[third][:4])  # ends inside a line
    async with following(tmp_path, log) as source:
        await wait_until(lambda: source.status.records == third)
    append(log, LINES[third][4:] + b"\r\n" + wire(LINES[third + 1 : 2 * third]))
    async with following(tmp_path, log) as source:
        await wait_until(lambda: source.status.records == 2 * third - third)
    append(log, wire(LINES[2 * third :]))
    async with following(tmp_path, log) as source:
        await wait_until(lambda: source.status.records == len(LINES) - 2 * third)
    assert in_queue(tmp_path) == EXPECTED


async def test_rotation_reads_the_old_file_to_its_end_then_the_new_one(tmp_path: Path) -> None:
    log = tmp_path / "feed.log"
    a, b, c = len(LINES) // 3, len(LINES) // 2, 2 * len(LINES) // 3
    append(log, wire(LINES[:a]))
    async with following(tmp_path, log) as source:
        await wait_until(lambda: source.status.records == a)
        # The writer adds lines (the last without a line end), then rotates and starts anew.
        append(log, wire(LINES[a:b]) + LINES[b])
        log.rename(tmp_path / "feed.log.1")
        append(log, wire(LINES[b + 1 : c]))
        await wait_until(lambda: source.status.records == c)
        append(log, wire(LINES[c:]))
        await wait_until(lambda: source.status.records == len(LINES))
        assert source.status.connects == 2
    assert in_queue(tmp_path) == EXPECTED


async def test_truncation_starts_the_file_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    log = tmp_path / "feed.log"
    half = len(LINES) // 2
    append(log, wire(LINES[:half]))
    async with following(tmp_path, log) as source:
        await wait_until(lambda: source.status.records == half)
        log.write_bytes(b"")  # copytruncate
        await wait_until(lambda: "was truncated" in caplog.text)
        append(log, wire(LINES[half:]))
        await wait_until(lambda: source.status.records == len(LINES))
    assert in_queue(tmp_path) == EXPECTED


async def test_a_file_replaced_while_stopped_is_read_from_its_start(tmp_path: Path) -> None:
    log = tmp_path / "feed.log"
    half = len(LINES) // 2
    append(log, wire(LINES[:half]))
    async with following(tmp_path, log) as source:
        await wait_until(lambda: source.status.records == half)
    os.replace(log, tmp_path / "old.log")
    append(log, wire(LINES[half:]))
    async with following(tmp_path, log) as source:
        await wait_until(lambda: source.status.records == len(LINES) - half)
    assert in_queue(tmp_path) == EXPECTED


async def test_a_new_file_on_the_old_inode_is_not_taken_for_the_old_one(tmp_path: Path) -> None:
    log = tmp_path / "feed.log"
    append(log, wire(LINES[:20]))
    async with following(tmp_path, log) as source:
        await wait_until(lambda: source.status.records == 20)
    # Same inode, different content, longer than the saved offset: the head hash tells.
    with log.open("r+b") as fh:
        fh.write(wire(LINES[20:]))
    async with following(tmp_path, log) as source:
        await wait_until(lambda: source.status.records == len(LINES) - 20)
    assert in_queue(tmp_path) == EXPECTED


async def test_a_capture_file_is_followed_without_its_block_headers(tmp_path: Path) -> None:
    raw = capture("barber-2025-03-01-finish.log").read_bytes()
    log = tmp_path / "capture.log"
    log.write_bytes(raw)
    expected = [line for line in decode_lines(raw) if read_header(line) is None]
    assert len(expected) < len(decode_lines(raw))  # the file does hold headers
    async with following(tmp_path, log) as source:
        await wait_until(lambda: source.status.records == len(expected))
    assert in_queue(tmp_path) == expected
