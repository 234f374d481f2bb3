"""The official classification's records: a declaration, a correction, a withdrawal.

Officials' decisions are records of the event log like feed lines, so a replay of the log
gives the same versions. Each is stored as JSON under the source ``classification`` (record
type ``classification``); ``id`` is the record's seq in that source, ``session`` the session's
index in the log (the engine's order of sessions, which a replay reproduces), ``by`` who
decided, ``at_ms`` when (epoch ms, the server's clock when the record was appended).

Wire shape (one object per record)::

    {"action": "declare", "id", "session", "by", "at_ms"}
    {"action": "correct", "id", "session", "by", "at_ms", "car", "kind", "laps", "ms",
     "class", "reason"}
    {"action": "withdraw", "id", "session", "by", "at_ms", "correction", "reason"}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import orjson

from trackside.feeds.stored import json_object

RECORD_TYPE = "classification"
KINDS = ("laps", "time_penalty", "disqualify", "exclude", "class")
Kind = Literal["laps", "time_penalty", "disqualify", "exclude", "class"]


@dataclass(frozen=True, slots=True)
class Declaration:
    """The session's classification as it stands is official: the next revision."""

    id: int
    session: int
    by: str
    at_ms: int


@dataclass(frozen=True, slots=True)
class Correction:
    """An official's change to one car, with why; ``laps``/``ms``/``class_name`` by kind."""

    id: int
    session: int
    by: str
    at_ms: int
    car: str
    kind: Kind
    reason: str
    laps: int | None = None
    ms: int | None = None
    class_name: str | None = None


@dataclass(frozen=True, slots=True)
class Withdrawal:
    """A correction taken back; the correction stays in the log."""

    id: int
    session: int
    by: str
    at_ms: int
    correction: int
    reason: str = ""


ClassificationRecord = Declaration | Correction | Withdrawal


def to_json(record: ClassificationRecord) -> dict[str, Any]:
    base = {"id": record.id, "session": record.session, "by": record.by, "at_ms": record.at_ms}
    if isinstance(record, Declaration):
        return {**base, "action": "declare"}
    if isinstance(record, Withdrawal):
        return {
            **base,
            "action": "withdraw",
            "correction": record.correction,
            "reason": record.reason,
        }
    return {
        "action": "correct",
        **base,
        "car": record.car,
        "kind": record.kind,
        "laps": record.laps,
        "ms": record.ms,
        "class": record.class_name,
        "reason": record.reason,
    }


def encode(record: ClassificationRecord) -> str:
    return orjson.dumps(to_json(record)).decode()


def _int(data: dict[str, Any], name: str, optional: bool = False) -> Any:
    value = data.get(name)
    if value is None and optional:
        return None
    if type(value) is not int:
        raise ValueError(f"{name} must be an integer")
    return value


def _str(data: dict[str, Any], name: str, optional: bool = False) -> Any:
    value = data.get(name)
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{name} must be text")
    return value


def decode(data: str) -> ClassificationRecord:
    """A stored record back; anything else is a ``ValueError`` the processor reports."""
    raw = json_object(data)
    base = (_int(raw, "id"), _int(raw, "session"), _str(raw, "by"), _int(raw, "at_ms"))
    action = raw.get("action")
    if action == "declare":
        return Declaration(*base)
    if action == "withdraw":
        return Withdrawal(*base, _int(raw, "correction"), _str(raw, "reason", True) or "")
    if action != "correct":
        raise ValueError(f"unknown action {action!r}")
    kind = raw.get("kind")
    if kind not in KINDS:
        raise ValueError(f"unknown correction kind {kind!r}")
    return Correction(
        *base,
        car=_str(raw, "car"),
        kind=kind,
        reason=_str(raw, "reason"),
        laps=_int(raw, "laps", True),
        ms=_int(raw, "ms", True),
        class_name=_str(raw, "class", True),
    )
