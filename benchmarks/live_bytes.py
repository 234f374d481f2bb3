"""Bytes each live subscriber receives per minute of racing, protocol against protocol.

The same simulated race (and a real race start) is scored once, one update for each batch of
records that arrive together (a send time of the simulator, a block of the capture); every
update goes out as:

- ``patches``: trackside's WebSocket protocol, a snapshot on connect then numbered patches;
- ``hub``: the SignalR hub's scheme, a full payload (gzip + base64) every 5 s and incremental
  payloads in between, each framed as a ``ReceiveMessage`` invocation;
- ``full_every_5s``: only the full payload every 5 s (the baseline scheme).

Prints JSON. Counts bytes of messages as sent (WebSocket framing excluded); no timing involved,
so the figures are exact and repeatable. Usage: ``.venv/bin/python benchmarks/live_bytes.py``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path

import orjson

from trackside.feeds.capture import read_records
from trackside.feeds.records import Record
from trackside.feeds.rmonitor import parse_lines
from trackside.live import signalr
from trackside.live.compact import (
    CompactStream,
    EventInfo,
    encode_full,
    full_payload,
    live_session_of,
)
from trackside.live.patch import LiveState
from trackside.live.snapshot import SnapshotBuilder
from trackside.sim import SimConfig, simulate
from trackside.timing.engine import RaceEngine

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "rmonitor"
RACE_START = [
    "road-america-2025-04-26-entries.log",
    "road-america-2025-04-26-grid.log",
    "road-america-2025-04-26-race-start.log",
]
EVENT = EventInfo(event_id=1, name="benchmark", date=date(2025, 4, 26))
FULL_EVERY_MS = 5_000


def _simulated(config: SimConfig) -> Iterator[tuple[int, list[Record]]]:
    race = simulate(config)
    batch: list[Record] = []
    at = 0
    for item, record in zip(race.lines, parse_lines(race.text_lines()), strict=True):
        if item.at_ms != at and batch:
            yield at, batch
            batch = []
        at = item.at_ms
        batch.append(record)
    yield at, batch


def _captured(path: Path) -> Iterator[tuple[int, list[Record]]]:
    """One update per capture block: what the relay read at once, as a server applies it."""
    now = 0
    block: list[Record] = []
    received: int | None = None
    for item in read_records(path.read_bytes()):
        if item.received_at_ms != received and block:
            yield now, block
            block = []
        received = item.received_at_ms
        now = max(now, received or now)  # capture blocks are not all in time order
        block.append(item.record)
    if block:
        yield now, block


def measure(
    updates: Iterable[tuple[int, list[Record]]], before: Iterable[Record] = ()
) -> dict[str, object]:
    """Bytes per minute of each scheme over ``updates``; ``before`` is applied uncounted."""
    engine = RaceEngine()
    engine.apply_all(before)
    builder = SnapshotBuilder(engine)
    live = LiveState(builder.build())
    stream = CompactStream(EVENT, full_every_ms=FULL_EVERY_MS)
    patches = len(live.snapshot_message().data)
    hub = 0
    full_only = 0
    messages = {"patches": 0, "hub": 0, "full_every_5s": 0}
    first: int | None = None
    last_full: int | None = None
    now = 0
    for now, records in updates:
        first = now if first is None else first
        for record in records:
            engine.apply(record)
        body = builder.build()
        message = live.update(body)
        if message is not None:
            patches += len(message.data)
            messages["patches"] += 1
        status = stream.next(body, now)
        if status is not None:
            hub += len(signalr.receive_message(status.text).encode())
            messages["hub"] += 1
        # The baseline sends on its own 5 s timer, whether anything changed or not.
        _, session = live_session_of(body)
        full_size = len(signalr.receive_message(encode_full(full_payload(session, EVENT))))
        while last_full is None or now - last_full >= FULL_EVERY_MS:
            full_only += full_size
            messages["full_every_5s"] += 1
            last_full = now if last_full is None else last_full + FULL_EVERY_MS
    minutes = max((now - (first or 0)) / 60_000, 1 / 60)
    return {
        "minutes": round(minutes, 2),
        "records": engine.records,
        "cars": max((len(s.cars) for s in engine.sessions), default=0),
        "messages": messages,
        "bytes_per_minute": {
            "patches": round(patches / minutes),
            "hub": round(hub / minutes),
            "full_every_5s": round(full_only / minutes),
        },
        "patches_vs_full_every_5s": round(patches / full_only, 3) if full_only else None,
    }


def main() -> None:
    results: dict[str, object] = {
        "simulated_30_min_race": measure(_simulated(SimConfig(seed=1))),
    }
    paths = [DATA / name for name in RACE_START]
    if all(path.exists() for path in paths):
        entries_and_grid = [i.record for p in paths[:2] for i in read_records(p.read_bytes())]
        results["road_america_race_start"] = measure(_captured(paths[2]), entries_and_grid)
    sys.stdout.write(orjson.dumps(results, option=orjson.OPT_INDENT_2).decode() + "\n")


if __name__ == "__main__":
    main()
