"""``checkpoint`` records: a participant's GPS track crossed a course checkpoint.

Produced by the tracking area from position fixes (the crossing time interpolated between the
two fixes around it) and appended to the event log like any other record; stored as compact
JSON. Times are epoch milliseconds UTC.

A record carries the checkpoint's place in the course when it was logged (``i``, the start
being 0), so the scorer and ``trackside replay`` of a log export order a course the same way
without the event's settings. Records logged before it was kept have none: the scorer then
takes checkpoints in the order they were first crossed.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson

TYPE = "checkpoint"


@dataclass(frozen=True, slots=True)
class CheckpointCrossing:
    participant: int  # the tracked account's id
    name: str  # the participant's name as shown
    checkpoint: str
    time_ms: int
    position: int | None = None  # the checkpoint's place in the course (0: the start)


def encode(record: CheckpointCrossing) -> str:
    raw: dict[str, object] = {
        "p": record.participant,
        "n": record.name,
        "c": record.checkpoint,
        "t": record.time_ms,
    }
    if record.position is not None:
        raw["i"] = record.position
    return orjson.dumps(raw).decode()


def decode(data: str) -> CheckpointCrossing:
    try:
        raw = orjson.loads(data)
        record = CheckpointCrossing(
            participant=int(raw["p"]),
            name=str(raw["n"]),
            checkpoint=str(raw["c"]),
            time_ms=int(raw["t"]),
            position=int(raw["i"]) if raw.get("i") is not None else None,
        )
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"not a checkpoint record: {exc}") from None
    return record
