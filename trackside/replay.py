"""Replay recorded feeds through the same parser and engine the server runs."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from trackside.feeds.capture import read_records
from trackside.feeds.records import Heartbeat, Received
from trackside.timing.engine import RaceEngine

ProgressHook = Callable[[int], None]


@dataclass(slots=True)
class ReplayFile:
    path: Path
    records: list[Received]


def load(paths: Iterable[Path]) -> list[ReplayFile]:
    """Read and parse every file up front (parsing is fast; pacing needs the record count)."""
    return [ReplayFile(path, list(read_records(Path(path).read_bytes()))) for path in paths]


def paced(
    records: list[Received],
    speed: float | None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[Received]:
    """Yield records at ``speed`` times real time (None = as fast as possible).

    Captures carry receive times; a raw stream has none, so each heartbeat counts as a second.
    """
    if speed is None:
        yield from records
        return
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
    """Apply every record of every file, in order, to one engine (files continue one feed)."""
    engine = engine or RaceEngine()
    apply = engine.apply
    for replay_file in files:
        done = 0
        for item in paced(replay_file.records, speed):
            apply(item.record)
            done += 1
            if on_progress is not None and (done & 1023) == 0:
                on_progress(1024)
        if on_progress is not None:
            on_progress(done & 1023)
    return engine
