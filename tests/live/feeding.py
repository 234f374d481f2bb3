"""Drive an engine record by record (or batch by batch) and keep every live message it makes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from trackside.feeds.capture import read_records
from trackside.feeds.records import Record
from trackside.live.patch import LiveState, Message
from trackside.live.snapshot import SnapshotBuilder
from trackside.timing.engine import RaceEngine


def capture_records(*paths: Path) -> list[Record]:
    return [item.record for path in paths for item in read_records(path.read_bytes())]


def as_json(value: object) -> object:
    """What a client holds after the wire: the value through orjson and back."""
    return orjson.loads(orjson.dumps(value))


@dataclass
class Feed:
    """An engine, its snapshot builder and live state, and every message sent so far."""

    engine: RaceEngine = field(default_factory=RaceEngine)
    live: LiveState = field(init=False)
    builder: SnapshotBuilder = field(init=False)
    first_snapshot: dict = field(init=False)
    patches: list[Message] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.builder = SnapshotBuilder(self.engine)
        self.live = LiveState(self.builder.build())
        self.first_snapshot = orjson.loads(self.live.snapshot_message().data)["data"]

    def apply(self, records: Iterable[Record]) -> Message | None:
        for record in records:
            self.engine.apply(record)
        message = self.live.update(self.builder.build())
        if message is not None:
            self.patches.append(message)
        return message

    def run(self, records: Sequence[Record], batch: int = 1) -> Feed:
        for start in range(0, len(records), batch):
            self.apply(records[start : start + batch])
        return self
