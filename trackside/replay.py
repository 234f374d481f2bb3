"""Replay recorded feeds through the same parser and engine the server runs.

Files are read block by block as they are applied (``feeds.capture.read_file``): a whole
season of captures replays in the memory of one block and one engine.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from trackside.feeds.capture import feed_file, read_file
from trackside.feeds.records import Heartbeat, Received
from trackside.timing.engine import RaceEngine

ProgressHook = Callable[[int], None]


@dataclass(slots=True)
class ReplayFile:
    path: Path
    size: int  # bytes, for the progress bar

    def records(self, on_read: ProgressHook | None = None) -> Iterator[Received]:
        for received, record in read_file(self.path, on_read=on_read):
            yield Received(received, record)


def load(paths: Iterable[Path]) -> list[ReplayFile]:
    """The files to replay, in order; nothing is read yet."""
    return [ReplayFile(Path(path), Path(path).stat().st_size) for path in paths]


def paced(
    records: Iterable[Received],
    speed: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[Received]:
    """Yield records at ``speed`` times real time.

    Captures carry receive times; a raw stream has none, so each heartbeat counts as a second.
    """
    started = clock()
    first: int | None = None
    beats = 0
    for item in records:
        if item.received_at_ms is not None:
            if first is None:
                first = item.received_at_ms
            due = (item.received_at_ms - first) / 1000 / speed
        else:
            due = beats / speed
        if isinstance(item.record, Heartbeat):
            beats += 1
        wait = due - (clock() - started)
        if wait > 0:
            sleep(wait)
        yield item


def replay(
    files: list[ReplayFile],
    speed: float | None = None,
    on_progress: ProgressHook | None = None,
    engine: RaceEngine | None = None,
) -> RaceEngine:
    """Apply every record of every file, in order, to one engine (files continue one feed).

    ``on_progress`` hears the bytes read as they are read.
    """
    engine = engine or RaceEngine()
    apply = engine.apply
    for replay_file in files:
        if speed is None:
            feed_file(replay_file.path, apply, on_read=on_progress)
        else:
            for item in paced(replay_file.records(on_progress), speed):
                apply(item.record)
    return engine
