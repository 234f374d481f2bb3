"""Race-control log records as the event log stores them: one JSON object per record.

An import appends its new revisions to the event's log as records of type ``controllog``, so
they replay like every other record. The JSON keeps every field, and decoding gives back the
equal record (tuples, dates and all), so ``controllog.changes`` compares stored and imported
rows exactly. A record that does not decode is a ``ValueError`` naming what is wrong.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import orjson

from trackside.feeds.controllog_records import (
    ControlLogBadRow,
    ControlLogEntry,
    ControlLogRecord,
    ControlLogRemoval,
    Penalty,
)
from trackside.feeds.stored import json_object

RECORD_TYPE = "controllog"
ENTRY, BAD_ROW, REMOVAL = "entry", "bad_row", "removal"


def to_json(record: ControlLogRecord) -> dict[str, Any]:
    """A record as JSON-ready data (the stored form, and the API's)."""
    head = {"key": record.key, "row": record.row, "revision": record.revision}
    if isinstance(record, ControlLogEntry):
        return {
            "kind": ENTRY,
            **head,
            "time_of_day_ms": record.time_of_day_ms,
            "date": record.date.isoformat() if record.date else None,
            "cars": list(record.cars),
            "corner": record.corner,
            "description": record.description,
            "penalty_text": record.penalty_text,
            "penalty": {"kind": record.penalty.kind, "laps": record.penalty.laps},
            "status": record.status,
            "extra": [list(pair) for pair in record.extra],
        }
    if isinstance(record, ControlLogBadRow):
        return {"kind": BAD_ROW, **head, "cells": list(record.cells), "reason": record.reason}
    return {"kind": REMOVAL, **head}


def encode(record: ControlLogRecord) -> str:
    return orjson.dumps(to_json(record)).decode()


def decode(text: str) -> ControlLogRecord:
    """A stored record back; ValueError when the text is not one."""
    data = json_object(text)
    try:
        return _record(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"not a control log record: {type(exc).__name__} {exc}") from None


def _strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise TypeError("expected a list of strings")
    return tuple(value)


def _int(data: dict[str, Any], name: str) -> int:
    value = data[name]
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} is not an integer")
    return value


def _str(data: dict[str, Any], name: str) -> str:
    value = data[name]
    if not isinstance(value, str):
        raise TypeError(f"{name} is not a string")
    return value


def _record(data: dict[str, Any]) -> ControlLogRecord:
    kind = data["kind"]
    key, row, revision = _str(data, "key"), _int(data, "row"), _int(data, "revision")
    if kind == REMOVAL:
        return ControlLogRemoval(key, row, revision)
    if kind == BAD_ROW:
        return ControlLogBadRow(key, row, _strings(data["cells"]), _str(data, "reason"), revision)
    if kind != ENTRY:
        raise ValueError(f"unknown kind {kind!r}")
    penalty = data["penalty"]
    extra = data["extra"]
    if not isinstance(extra, list):
        raise TypeError("extra is not a list")
    return ControlLogEntry(
        key=key,
        row=row,
        time_of_day_ms=_int(data, "time_of_day_ms"),
        date=date.fromisoformat(data["date"]) if data["date"] is not None else None,
        cars=_strings(data["cars"]),
        corner=_str(data, "corner"),
        description=_str(data, "description"),
        penalty_text=_str(data, "penalty_text"),
        penalty=Penalty(_str(penalty, "kind"), _int(penalty, "laps")),
        status=_str(data, "status"),
        extra=tuple((h, v) for h, v in (_strings(pair) for pair in extra)),
        revision=revision,
    )
