"""iRacing results as the event log stores them: records of type ``iracing``, one JSON object
each, decoded into the same feed records an RMonitor timing system sends, so the scorer applies
an imported iRacing session exactly like a race timed at a track.

Kinds (``"kind"``):

- ``session``: the run opens — ``run``, ``name``, ``track``, ``classes`` ``[[id, name]]``,
  ``cars`` ``[{"car", "number", "first", "last", "class", "grid"}]`` (``grid`` 1-based or
  null) → ``$B``, ``$E TRACKNAME``, ``$C``, ``$A``, the grid as ``$G``, a green ``$F``.
- ``lap``: a car crossed the line — ``car``, ``lap`` (0 = the start crossing), ``lap_ms``,
  ``total_ms``, ``order`` (``race``|``practice``), ``position`` and for practice ``best_lap``,
  ``best_ms`` → ``$J`` then ``$G`` or ``$H``, and a ``$F`` with the race clock.
- ``finish``: the official classification — ``order``, ``total_ms``, ``cars`` ``[{"car",
  "position", "laps", "total_ms", "best_lap", "best_ms"}]`` → a checkered ``$F``, ``$G`` or
  ``$H`` for every car, then ``$B,95`` (the run is over).

A record that does not decode is a ``ValueError`` naming what is wrong. Pure.
"""

from __future__ import annotations

from typing import Any

import orjson

from trackside.feeds.records import (
    FINISH,
    GREEN,
    NO_RUN,
    Competitor,
    Heartbeat,
    Passing,
    PracticeOrder,
    RaceClass,
    RaceOrder,
    RMonitorRecord,
    Run,
    Setting,
)

RECORD_TYPE = "iracing"
SESSION, LAP, FINISH_KIND = "session", "lap", "finish"
RACE_ORDER, PRACTICE_ORDER = "race", "practice"


def encode(record: dict[str, Any]) -> str:
    return orjson.dumps(record).decode()


def _need(data: dict[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    value = data.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ValueError(f"iracing record: {name!r} is missing or not {kind}")
    return value


def _maybe_int(data: dict[str, Any], name: str) -> int | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"iracing record: {name!r} is not an integer")
    return value


def _heartbeat(flag: str, race_ms: int | None) -> Heartbeat:
    clock = race_ms if race_ms is not None else 0
    return Heartbeat(None, 0, clock % 86_400_000, race_ms, flag)


def _order(order: str, car: str, position: int, data: dict[str, Any]) -> RMonitorRecord:
    if order == PRACTICE_ORDER:
        return PracticeOrder(
            position, car, _maybe_int(data, "best_lap"), _maybe_int(data, "best_ms")
        )
    return RaceOrder(position, car, _maybe_int(data, "laps"), _maybe_int(data, "total_ms"))


def _session(data: dict[str, Any]) -> list[RMonitorRecord]:
    run = _need(data, "run", int)
    if run == NO_RUN:
        raise ValueError("iracing record: run 95 means no run")
    out: list[RMonitorRecord] = [Run(run, str(data.get("name") or ""))]
    if data.get("track"):
        out.append(Setting("TRACKNAME", str(data["track"])))
    for item in data.get("classes") or ():
        if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], int)):
            raise ValueError("iracing record: a class is [id, name]")
        out.append(RaceClass(item[0], str(item[1])))
    grid: list[RaceOrder] = []
    for car in _need(data, "cars", list):
        if not isinstance(car, dict):
            raise ValueError("iracing record: a car is an object")
        registration = str(_need(car, "car", str))
        out.append(
            Competitor(
                registration=registration,
                number=str(car.get("number") or registration),
                transponder=None,
                first_name=str(car.get("first") or ""),
                last_name=str(car.get("last") or ""),
                nationality="",
                class_id=_maybe_int(car, "class"),
                additional=None,
                layout="COMP",
            )
        )
        slot = _maybe_int(car, "grid")
        if slot is not None:
            grid.append(RaceOrder(slot, registration, None, None))
    out.extend(sorted(grid, key=lambda g: g.position))
    out.append(_heartbeat(GREEN, 0))
    return out


def _lap(data: dict[str, Any]) -> list[RMonitorRecord]:
    car = _need(data, "car", str)
    total = _need(data, "total_ms", int)
    lap_ms = _maybe_int(data, "lap_ms")
    lap = _need(data, "lap", int)
    out: list[RMonitorRecord] = [
        _heartbeat(GREEN, total),
        Passing(car, lap_ms if lap > 0 else None, total),
    ]
    position = _maybe_int(data, "position")
    if position is not None:
        order = data.get("order", RACE_ORDER)
        out.append(_order(order, car, position, {**data, "laps": lap}))
    return out


def _finish(data: dict[str, Any]) -> list[RMonitorRecord]:
    order = data.get("order", RACE_ORDER)
    out: list[RMonitorRecord] = [_heartbeat(FINISH, _maybe_int(data, "total_ms"))]
    for car in _need(data, "cars", list):
        if not isinstance(car, dict):
            raise ValueError("iracing record: a car is an object")
        out.append(_order(order, _need(car, "car", str), _need(car, "position", int), car))
    out.append(Run(NO_RUN, ""))
    return out


_KINDS = {SESSION: _session, LAP: _lap, FINISH_KIND: _finish}


def decode(data: str) -> list[RMonitorRecord]:
    """The feed records one stored ``iracing`` record stands for."""
    try:
        parsed = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"iracing record: not JSON ({exc})") from None
    if not isinstance(parsed, dict):
        raise ValueError("iracing record: not a JSON object")
    read = _KINDS.get(parsed.get("kind"))  # type: ignore[arg-type]
    if read is None:
        raise ValueError(f"iracing record: unknown kind {parsed.get('kind')!r}")
    return read(parsed)
