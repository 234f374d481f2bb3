"""``checkpoint`` records: a participant's GPS track crossed a course checkpoint.

Produced by the tracking area from position fixes (the crossing time interpolated between the
two fixes around it) and appended to the event log like any other record; stored as compact
JSON. Times are epoch milliseconds UTC.
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


def encode(record: CheckpointCrossing) -> str:
    return orjson.dumps(
        {"p": record.participant, "n": record.name, "c": record.checkpoint, "t": record.time_ms}
    ).decode()


def decode(data: str) -> CheckpointCrossing:
    try:
        raw = orjson.loads(data)
        record = CheckpointCrossing(
            participant=int(raw["p"]),
            name=str(raw["n"]),
            checkpoint=str(raw["c"]),
            time_ms=int(raw["t"]),
        )
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"not a checkpoint record: {exc}") from None
    return record
