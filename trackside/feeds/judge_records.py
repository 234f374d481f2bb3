"""Manual timing records as the event log stores them: one JSON object per record.

A judge's phone (``judging``) produces them; they are appended to the event's log with the type
``judge`` and scored by ``timing.manual``. Each record names its competition (a manual session
of the event) and carries everything scoring needs, so the log alone rebuilds the results:

- ``start``: the competition started (``started_at_ms``: the server's clock, Unix ms); it opens
  the competition's session, which ``session_id`` names in the event's stored sessions.
- ``time``: one runner of a team in (``time_ms`` since the start), with the phone's
  wall-clock ``phone_timestamp`` (ISO 8601 text as sent) and the id the phone gave it.
- ``void``: a correction withdrawing one time record (by its id).
- ``stop``: the competition stopped; its order is its result.

A record that does not decode is a ``ValueError`` naming what is wrong.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import orjson

RECORD_TYPE = "judge"
START, STOP, TIME, VOID = "start", "stop", "time", "void"


@dataclass(frozen=True, slots=True)
class CompetitionStart:
    competition: int
    name: str
    session_id: int | None
    started_at_ms: int


@dataclass(frozen=True, slots=True)
class CompetitionStop:
    competition: int
    stopped_at_ms: int


@dataclass(frozen=True, slots=True)
class TeamTime:
    competition: int
    team: int
    team_name: str
    team_number: str
    record_id: str
    time_ms: int
    phone_timestamp: str
    received_at_ms: int


@dataclass(frozen=True, slots=True)
class TimeVoid:
    competition: int
    team: int
    record_id: str


JudgeRecord = CompetitionStart | CompetitionStop | TeamTime | TimeVoid
_KINDS: dict[str, type[Any]] = {
    START: CompetitionStart,
    STOP: CompetitionStop,
    TIME: TeamTime,
    VOID: TimeVoid,
}
_NAMES = {kind: name for name, kind in _KINDS.items()}
_INTS = {"competition", "team", "started_at_ms", "stopped_at_ms", "time_ms", "received_at_ms"}


def encode(record: JudgeRecord) -> str:
    return orjson.dumps({"kind": _NAMES[type(record)], **asdict(record)}).decode()


def decode(text: str) -> JudgeRecord:
    """A stored record back; ValueError when the text is not one."""
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    kind = _KINDS.get(data.pop("kind", None))
    if kind is None:
        raise ValueError("unknown kind (start, stop, time or void)")
    fields = kind.__dataclass_fields__
    missing = [name for name in fields if name not in data]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    values = {name: data[name] for name in fields}
    for name, value in values.items():
        if name in _INTS and (type(value) is not int):
            raise ValueError(f"{name} is not an integer")
    if kind is TeamTime and values["time_ms"] < 0:
        raise ValueError("time_ms is negative")
    return kind(**values)
