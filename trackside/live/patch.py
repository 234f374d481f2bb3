"""Numbered patches between live snapshots, and the wire messages that carry them.

A subscriber gets one snapshot, then patches numbered ``version + 1``, ``+ 2``, … that carry
only what changed. One who sees a gap in the numbers asks for a fresh snapshot. The invariant
the tests check on real captures: ``apply(snapshot_v0, patches 1..n) == snapshot_vn``.

Wire messages (JSON, UTF-8; each serialized once, the same bytes go to every subscriber)::

    {"type": "snapshot", "epoch": e, "version": n,
     "data": {"version": n, "current": i, "sessions": [...]}}
    {"type": "patch", "epoch": e, "version": n, "ops": [op, ...]}

``epoch`` names the run of the state that numbers the versions (each start of an event's
processor is a new one, numbered from 0 again): versions compare only within one epoch, and a
message of another epoch than the client's snapshot means "ask for a fresh snapshot".
A patch applies to the snapshot of the same epoch and ``version - 1`` only.

Its ops run in order; ``s`` is a session's index in ``sessions``, cars are named by
``registration`` (the feed's key)::

    {"op": "top", "set": {key: value}, "del": [key]}       snapshot keys besides version/sessions
    {"op": "truncate", "len": n}                           drop sessions from index n on
    {"op": "session", "s": i, "value": {...}}              a whole session, replaced or appended
    {"op": "set", "s": i, "set": {key: value}, "del": [key]}  session fields (heartbeat, name …)
    {"op": "flags", "s": i, "from": k, "periods": [...]}   flag_periods[k:] becomes periods
    {"op": "remove", "s": i, "regs": [reg, ...]}           cars that left the board
    {"op": "put", "s": i, "cars": [car, ...]}              whole cars: replaced in place, else
                                                           appended
    {"op": "cars", "s": i, "set": {reg: {field: value}}}   changed fields of cars
    {"op": "move", "s": i, "moves": [[reg, index], ...]}   then move these cars to these indexes,
                                                           in the order given

``del`` appears only when a key went away. Moves are the fewest that turn the old order into the
new one (the cars off the longest run that kept its order), so an overtake costs one move.
Values are compared strictly: ``1``, ``1.0`` and ``true`` differ, as they do in JSON.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import deque
from dataclasses import dataclass
from itertools import repeat
from typing import Any

import orjson

from trackside.live.snapshot import Snapshot

Op = dict[str, Any]

# Recent patch messages kept so a client one or a few versions behind can catch up.
DEFAULT_HISTORY = 256


class VersionGap(ValueError):
    """A patch that does not follow the snapshot's version: the client needs a new snapshot."""


def same(a: Any, b: Any) -> bool:
    """JSON equality: like ``==`` but ``1``, ``1.0`` and ``True`` are different values."""
    if a is b:
        return True
    kind = type(a)
    if kind is not type(b):
        return False
    if kind is dict:
        return a.keys() == b.keys() and all(same(v, b[k]) for k, v in a.items())
    if kind is list:
        return len(a) == len(b) and all(map(same, a, b))
    return bool(a == b)


# --- diff -------------------------------------------------------------------------------------


def diff(old: Snapshot, new: Snapshot) -> list[Op]:
    """The ops that turn ``old`` into ``new`` (``version`` is the message's, never an op)."""
    ops: list[Op] = []
    top_set, top_del = _diff_keys(old, new, ("version", "sessions"))
    if top_set or top_del:
        ops.append(_with_del({"op": "top", "set": top_set}, top_del))
    old_sessions: list[Any] = old.get("sessions") or []
    new_sessions: list[Any] = new.get("sessions") or []
    if len(new_sessions) < len(old_sessions):
        ops.append({"op": "truncate", "len": len(new_sessions)})
    for index, session in enumerate(new_sessions):
        if index >= len(old_sessions):
            ops.append({"op": "session", "s": index, "value": session})
            continue
        before = old_sessions[index]
        if before is session:
            continue
        if type(before) is dict and type(session) is dict:
            ops.extend(diff_session(index, before, session))
        elif not same(before, session):
            ops.append({"op": "session", "s": index, "value": session})
    return ops


def _with_del(op: Op, deleted: list[str]) -> Op:
    if deleted:
        op["del"] = deleted
    return op


def _diff_keys(
    old: dict[str, Any], new: dict[str, Any], skip: tuple[str, ...]
) -> tuple[dict[str, Any], list[str]]:
    changed = {
        key: value
        for key, value in new.items()
        if key not in skip and (key not in old or not same(old[key], value))
    }
    deleted = [key for key in old if key not in skip and key not in new]
    return changed, deleted


def _registrations(cars: Any) -> list[str] | None:
    """The cars' registrations, when ``cars`` is a list of cars keyed by unique registrations
    (diffed car by car); else None. Loops in C: it runs over every car of every update."""
    if type(cars) is not list:
        return None
    if not set(map(type, cars)) <= {dict}:
        return None
    regs = list(map(dict.get, cars, repeat("registration")))
    if not set(map(type, regs)) <= {str} or len(set(regs)) != len(regs):
        return None
    return regs


def diff_session(index: int, old: dict[str, Any], new: dict[str, Any]) -> list[Op]:
    """The ops for one session present in both snapshots."""
    structured = []
    old_cars, new_cars = old.get("cars"), new.get("cars")
    kept_cars = old_cars is new_cars and type(new_cars) is list  # the builder kept the list
    old_regs = new_regs = None
    if not kept_cars:
        old_regs = _registrations(old_cars)
        new_regs = _registrations(new_cars) if old_regs is not None else None
    if kept_cars or new_regs is not None:
        structured.append("cars")
    old_flags, new_flags = old.get("flag_periods"), new.get("flag_periods")
    if type(old_flags) is list and type(new_flags) is list:
        structured.append("flag_periods")
    ops: list[Op] = []
    changed, deleted = _diff_keys(old, new, tuple(structured))
    if changed or deleted:
        ops.append(_with_del({"op": "set", "s": index, "set": changed}, deleted))
    if "flag_periods" in structured:
        ops.extend(_diff_flags(index, old_flags, new_flags))  # type: ignore[arg-type]
    if old_regs is not None and new_regs is not None:
        ops.extend(_diff_cars(index, old_cars, new_cars, old_regs, new_regs))  # type: ignore[arg-type]
    return ops


def _diff_flags(index: int, old: list[Any], new: list[Any]) -> list[Op]:
    start = 0
    shorter = min(len(old), len(new))
    while start < shorter and same(old[start], new[start]):
        start += 1
    if start == len(old) == len(new):
        return []
    return [{"op": "flags", "s": index, "from": start, "periods": new[start:]}]


def _diff_cars(
    index: int,
    old: list[dict[str, Any]],
    new: list[dict[str, Any]],
    old_regs: list[str],
    new_regs: list[str],
) -> list[Op]:
    ops: list[Op] = []
    before = dict(zip(old_regs, old, strict=True))
    after_regs = set(new_regs)
    removed = [] if before.keys() <= after_regs else [r for r in old_regs if r not in after_regs]
    if removed:
        ops.append({"op": "remove", "s": index, "regs": removed})
    put: list[dict[str, Any]] = []
    changed: dict[str, dict[str, Any]] = {}
    for reg, car in zip(new_regs, new, strict=True):
        prior = before.get(reg)
        if prior is car:
            continue  # kept by the builder: unchanged
        if prior is None or prior.keys() != car.keys():
            put.append(car)
            continue
        fields = {k: v for k, v in car.items() if prior[k] is not v and not same(prior[k], v)}
        if fields:
            changed[reg] = fields
    if put:
        ops.append({"op": "put", "s": index, "cars": put})
    if changed:
        ops.append({"op": "cars", "s": index, "set": changed})
    # The order the client has once removals and appends are applied, against the new one.
    order = [reg for reg in old_regs if reg in after_regs] if removed else list(old_regs)
    order.extend(car["registration"] for car in put if car["registration"] not in before)
    if order != new_regs:
        ops.append({"op": "move", "s": index, "moves": fewest_moves(order, new_regs)})
    return ops


def fewest_moves(order: list[str], target: list[str]) -> list[list[Any]]:
    """``[reg, index]`` moves, by ascending index, that turn ``order`` into ``target``.

    Cars on a longest run that is in the same order in both stay put; the rest move. Applied
    one by one after taking the movers out, each insert lands at its final index.
    """
    where = {reg: i for i, reg in enumerate(order)}
    ranks = [where[reg] for reg in target]
    # Longest increasing subsequence of ranks (patience sorting, with back links).
    tails: list[int] = []
    tail_at: list[int] = []
    back = [-1] * len(ranks)
    for i, rank in enumerate(ranks):
        slot = bisect_left(tails, rank)
        if slot == len(tails):
            tails.append(rank)
            tail_at.append(i)
        else:
            tails[slot] = rank
            tail_at[slot] = i
        back[i] = tail_at[slot - 1] if slot else -1
    keep = set()
    i = tail_at[-1] if tail_at else -1
    while i >= 0:
        keep.add(i)
        i = back[i]
    return [[reg, i] for i, reg in enumerate(target) if i not in keep]


# --- apply ------------------------------------------------------------------------------------


def apply_patch(snapshot: Snapshot, patch: dict[str, Any]) -> Snapshot:
    """The snapshot a patch message leads to; the input is left as it was.

    Raises VersionGap when the patch is not numbered ``snapshot["version"] + 1``.
    """
    version = patch.get("version")
    if version != snapshot.get("version", 0) + 1:
        raise VersionGap(f"patch {version} does not follow snapshot {snapshot.get('version')}")
    result = apply_ops(snapshot, patch["ops"])
    result["version"] = version
    return result


def apply_ops(snapshot: Snapshot, ops: list[Op]) -> Snapshot:
    """Apply ops to a copy of ``snapshot``: only what they touch is copied."""
    result = dict(snapshot)
    sessions = list(result.get("sessions") or [])
    result["sessions"] = sessions
    copied: set[int] = set()
    for op in ops:
        kind = op["op"]
        if kind == "top":
            result.update(op["set"])
            for key in op.get("del", ()):
                result.pop(key, None)
        elif kind == "truncate":
            del sessions[op["len"] :]
        elif kind == "session":
            index = op["s"]
            if index == len(sessions):
                sessions.append(op["value"])
            else:
                sessions[index] = op["value"]
            copied.discard(index)
        else:
            index = op["s"]
            if index not in copied:
                sessions[index] = dict(sessions[index])
                copied.add(index)
            _apply_session_op(sessions[index], kind, op)
    return result


def _apply_session_op(session: dict[str, Any], kind: str, op: Op) -> None:
    if kind == "set":
        session.update(op["set"])
        for key in op.get("del", ()):
            session.pop(key, None)
    elif kind == "flags":
        session["flag_periods"] = [*session["flag_periods"][: op["from"]], *op["periods"]]
    elif kind == "remove":
        gone = set(op["regs"])
        session["cars"] = [car for car in session["cars"] if car["registration"] not in gone]
    elif kind == "put":
        cars = list(session["cars"])
        at = {car["registration"]: i for i, car in enumerate(cars)}
        for car in op["cars"]:
            i = at.get(car["registration"])
            if i is None:
                at[car["registration"]] = len(cars)
                cars.append(car)
            else:
                cars[i] = car
        session["cars"] = cars
    elif kind == "cars":
        changes = op["set"]
        session["cars"] = [
            {**car, **changes[car["registration"]]} if car["registration"] in changes else car
            for car in session["cars"]
        ]
    elif kind == "move":
        moving = {reg: index for reg, index in op["moves"]}
        cars = [car for car in session["cars"] if car["registration"] not in moving]
        by_reg = {car["registration"]: car for car in session["cars"]}
        for reg, index in op["moves"]:
            cars.insert(index, by_reg[reg])
        session["cars"] = cars
    else:
        raise ValueError(f"unknown patch op {kind!r}")


# --- versioned state --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Message:
    """One wire message, serialized once: ``data`` for binary sends, ``text`` for text frames."""

    kind: str  # "snapshot" or "patch"
    version: int
    data: bytes
    text: str
    epoch: int = 0

    @classmethod
    def encode(cls, body: dict[str, Any]) -> Message:
        data = orjson.dumps(body)
        return cls(body["type"], body["version"], data, data.decode(), body.get("epoch", 0))


class LiveState:
    """The current snapshot of one event and its version; turns each new snapshot into a patch.

    ``update`` returns the numbered patch message (None when nothing changed). The snapshot
    message for the current version is built once, when the first subscriber asks for it. The
    last ``history`` patches are kept so a client a few versions behind can catch up. Every
    message carries ``epoch`` (0 unless given: each run of an event's processor has its own).
    Bodies handed over are kept by reference and must not be changed afterwards.
    """

    __slots__ = ("_body", "_history", "_snapshot_message", "_version", "epoch")

    def __init__(
        self, body: Snapshot | None = None, history: int = DEFAULT_HISTORY, epoch: int = 0
    ) -> None:
        if body is None:
            body = {"current": None, "sessions": []}
        self.epoch = epoch
        self._body: Snapshot = {k: v for k, v in body.items() if k != "version"}
        self._version = 0
        self._snapshot_message: Message | None = None
        self._history: deque[Message] = deque(maxlen=history)

    @property
    def version(self) -> int:
        return self._version

    @property
    def snapshot(self) -> Snapshot:
        """The current snapshot, ``{"version": n, **body}`` (GET /events/{id}/live)."""
        return {"version": self._version, **self._body}

    def snapshot_message(self) -> Message:
        message = self._snapshot_message
        if message is None or message.version != self._version:
            snapshot = self.snapshot
            message = Message.encode(
                {
                    "type": "snapshot",
                    "epoch": self.epoch,
                    "version": self._version,
                    "data": snapshot,
                }
            )
            self._snapshot_message = message
        return message

    def update(self, body: Snapshot) -> Message | None:
        """Take the new snapshot body; the numbered patch to send, or None if nothing changed."""
        if "version" in body:
            body = {k: v for k, v in body.items() if k != "version"}
        ops = diff(self._body, body)
        if not ops:
            return None
        self._version += 1
        self._body = body
        message = Message.encode(
            {"type": "patch", "epoch": self.epoch, "version": self._version, "ops": ops}
        )
        self._history.append(message)
        return message

    def since(self, version: int) -> list[Message] | None:
        """The patches after ``version``, or None when they are gone (send a snapshot)."""
        if version == self._version:
            return []
        history = self._history
        if version > self._version or not history or history[0].version > version + 1:
            return None
        return [message for message in history if message.version > version]
