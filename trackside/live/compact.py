"""The compact live payload of the SignalR hub (``ReceiveMessage(status)``), from a live session.

Keys and value formats are those of ../shared/reference/live-timing-backend.md ("Payload
Structure" onward), so clients written for that hub read us unchanged::

    {"e": event id, "n": event name, "es": EventStatus,
     "ee": [EventEntry] (full only),   "eeu": [EventEntry] (incremental only),
     "cps": [CarPosition] (full only), "cpu": [CarPosition] (incremental only),
     "fd": [FlagDuration] (full; incremental only when they changed, else null),
     "r": reset, "ep": epoch}

- A *full* payload carries every entry and car position; it is sent about every 5 s, as JSON
  gzip-compressed then base64-encoded. An *incremental* one carries the event status and only
  the entries and car positions that changed since the payload before it (each one whole, as the
  reference's ``eeu``/``cpu`` do), as plain JSON. A new session or a scoreboard reset is sent as
  a full payload with ``r`` true.
- Flags are the reference's enumeration numbers (``FLAG_CODES``). Clock fields of the event
  status are ``HH:MM:SS``; lap and total times ``HH:MM:SS.fff``; gaps and differences
  ``s.fff``/``m:ss.fff``/``h:mm:ss.fff`` or ``"1 lap"``/``"N laps"``, empty for the leader or
  when unknown; a time trackside does not have is ``""``. Flag durations are local date-times
  (the timing PC's clock on the event's date), ISO 8601 without a zone.
- ``ep`` (not in the reference; its clients ignore it) is the epoch of the event's processor
  run the payload comes from, as in ``/ws/events/{id}``: a payload of a new epoch is a full one.
- ``ltg`` is the feed's count, with 9999 for "no lap limit" as the timing system sends it.
  ``tp`` is the transponder as a number, 0 when it is not one. Positions gained not known are
  -999 (the hub's "not available"); starting positions not known are 0.
- The pit and loop fields ``enp psf exp ip lip ln`` come from decoder passings on the event's
  loops, ``pl pw`` (penalty laps, warnings) from the race-control log (``timing.scorer``); a
  car no loop or log entry has seen carries false, ``""`` and 0.
"""

from __future__ import annotations

import base64
import gzip
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import orjson

from trackside.feeds.clock import format_clock, format_interval

# The reference's Flags enumeration; trackside's "none" is its Unknown.
FLAG_CODES = {
    "none": 0,
    "green": 1,
    "yellow": 2,
    "red": 3,
    "white": 4,
    "finish": 5,
    "black": 6,
    "purple35": 7,
}
UNLIMITED_LAPS = 9999
NOT_AVAILABLE = -999
FULL_EVERY_MS = 5_000
MAX_TRANSPONDER = 2**32 - 1
_HALF_DAY_MS = 12 * 3_600_000


def flag_code(flag: str | None) -> int:
    return FLAG_CODES.get(flag or "none", 0)


def result_time(ms: int | None) -> str:
    """A lap or total time the way the hub shows it: ``HH:MM:SS.fff``, hours unbounded."""
    if ms is None:
        return ""
    return f"{format_clock(ms)}.{abs(ms) % 1000:03d}"


def transponder_id(value: str | None) -> int:
    """The transponder as the hub's unsigned number; 0 for letters or an empty field."""
    if value and value.isdigit() and value.isascii():
        number = int(value)
        if number <= MAX_TRANSPONDER:
            return number
    return 0


def _or(value: int | None, default: int) -> int:
    return default if value is None else value


# --- the tables -------------------------------------------------------------------------------


def event_status(session: dict[str, Any], event_id: int | str) -> dict[str, Any]:
    """EventStatus: the session's flag and clocks."""
    laps_to_go = session.get("laps_to_go")
    return {
        "eid": str(event_id),
        "f": flag_code(session.get("flag")),
        "ltg": UNLIMITED_LAPS if laps_to_go is None else laps_to_go,
        "ttg": format_clock(session.get("time_to_go_ms") or 0),
        "tt": format_clock(session.get("time_of_day_ms")),
        "rt": format_clock(session.get("race_time_ms") or 0),
        "pq": session.get("type") != "race",
    }


def event_entry(car: dict[str, Any]) -> dict[str, Any]:
    """EventEntry: who a car is. Feeds put the team in the first name, drivers in the last."""
    first = (car.get("first_name") or "").strip()
    last = (car.get("last_name") or "").strip()
    return {
        "no": car.get("number") or "",
        "nm": last or first or car.get("name") or "",
        "t": first if last else "",
        "c": car.get("class") or "",
    }


def car_position(
    car: dict[str, Any], session: dict[str, Any], event_id: int | str, class_most_gained: bool
) -> dict[str, Any]:
    """CarPosition: every field of the reference table, in its order."""
    run = session.get("run")
    return {
        "eid": str(event_id),
        "sid": None if run is None else str(run),
        "n": car.get("number"),
        "tp": transponder_id(car.get("transponder")),
        "class": car.get("class"),
        "bt": result_time(car.get("best_lap_ms")),
        "bl": _or(car.get("best_lap"), 0),
        "ibt": bool(car.get("overall_best")),
        "btc": bool(car.get("class_best")),
        "cg": format_interval(car.get("class_gap_ms"), car.get("class_gap_laps")),
        "cd": format_interval(car.get("class_difference_ms"), car.get("class_difference_laps")),
        "og": format_interval(car.get("gap_ms"), car.get("gap_laps")),
        "od": format_interval(car.get("difference_ms"), car.get("difference_laps")),
        "ttm": result_time(car.get("total_time_ms")),
        "ltm": result_time(car.get("last_lap_ms")),
        "llp": _or(car.get("laps"), 0),
        "ovp": _or(car.get("position"), 0),
        "clp": _or(car.get("class_position"), 0),
        "osp": _or(car.get("starting_position"), 0),
        "opg": _or(car.get("positions_gained"), NOT_AVAILABLE),
        "icsp": _or(car.get("starting_class_position"), 0),
        "cpg": _or(car.get("class_positions_gained"), NOT_AVAILABLE),
        "ompg": bool(car.get("most_positions_gained")),
        "cmpg": class_most_gained,
        "pl": car.get("penalty_laps") or 0,
        "pw": car.get("warnings") or 0,
        "enp": bool(car.get("entered_pit")),
        "psf": bool(car.get("pit_start_finish")),
        "exp": bool(car.get("exited_pit")),
        "ip": bool(car.get("in_pit")),
        "lip": bool(car.get("last_lap_pit")),
        "ln": car.get("last_loop") or "",
        "st": bool(car.get("stale")),
        "flg": flag_code(session.get("flag")),
    }


def _class_most_gained(cars: list[dict[str, Any]]) -> set[str]:
    """Registrations of the cars that gained the most places in their class (none if nobody)."""
    best: dict[Any, int] = {}
    for car in cars:
        gained = car.get("class_positions_gained")
        if gained is not None and gained > best.get(car.get("class"), 0):
            best[car.get("class")] = gained
    return {
        car["registration"]
        for car in cars
        if car.get("class") in best and car.get("class_positions_gained") == best[car.get("class")]
    }


def car_positions(session: dict[str, Any], event_id: int | str) -> dict[str, dict[str, Any]]:
    """Every car's CarPosition by registration, in classification order."""
    cars = session.get("cars") or []
    most = _class_most_gained(cars)
    return {
        car["registration"]: car_position(car, session, event_id, car["registration"] in most)
        for car in cars
    }


def local_datetime(event_date: date, time_of_day_ms: int, day: int = 0) -> str:
    stamp = datetime(event_date.year, event_date.month, event_date.day) + timedelta(
        days=day, milliseconds=time_of_day_ms
    )
    text = stamp.strftime("%Y-%m-%dT%H:%M:%S")
    millis = stamp.microsecond // 1000
    return f"{text}.{millis:03d}" if millis else text


def flag_durations(session: dict[str, Any], event_date: date) -> list[dict[str, Any]]:
    """FlagDuration per flag period, on the timing PC's local clock.

    A period whose time of day is missing falls back to its race time after midnight. A time of
    day half a day before the first period's is on the next day (a race through midnight).
    """
    periods = session.get("flag_periods") or []
    first = next((p["start_time_of_day_ms"] for p in periods if p.get("start_time_of_day_ms")), 0)

    def stamp(tod: int | None, race_ms: int | None) -> str | None:
        if tod is None:
            return None if race_ms is None else local_datetime(event_date, max(race_ms, 0))
        return local_datetime(event_date, tod, 1 if tod + _HALF_DAY_MS < first else 0)

    return [
        {
            "f": flag_code(p.get("flag")),
            "s": stamp(p.get("start_time_of_day_ms"), p.get("start_ms") or 0),
            "e": None
            if p.get("end_ms") is None
            else stamp(p.get("end_time_of_day_ms"), p.get("end_ms")),
        }
        for p in periods
    ]


# --- payloads ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EventInfo:
    """What the payload says about the event itself; the date places flag times of day."""

    event_id: int
    name: str
    date: date
    epoch: int | None = None  # the run of the event's processor the payload comes from


def full_payload(
    session: dict[str, Any] | None, event: EventInfo, reset: bool = False
) -> dict[str, Any]:
    """Every entry and car position of the session (None: no session yet, empty lists)."""
    if session is None:
        return _payload(event, None, [], [], [], [], [], reset)
    positions = car_positions(session, event.event_id)
    entries = [event_entry(car) for car in session.get("cars") or []]
    return _payload(
        event,
        event_status(session, event.event_id),
        entries,
        [],
        list(positions.values()),
        [],
        flag_durations(session, event.date),
        reset,
    )


def _payload(
    event: EventInfo,
    status: dict[str, Any] | None,
    entries: list[dict[str, Any]],
    entry_updates: list[dict[str, Any]],
    positions: list[dict[str, Any]],
    position_updates: list[dict[str, Any]],
    durations: list[dict[str, Any]] | None,
    reset: bool,
) -> dict[str, Any]:
    payload = {
        "e": event.event_id,
        "n": event.name,
        "es": status,
        "ee": entries,
        "eeu": entry_updates,
        "cps": positions,
        "cpu": position_updates,
        "fd": durations,
        "r": reset,
    }
    if event.epoch is not None:
        payload["ep"] = event.epoch
    return payload


def encode_full(payload: dict[str, Any]) -> str:
    """A full payload as the hub sends it: JSON, gzip, base64. mtime 0 keeps it deterministic."""
    return base64.b64encode(gzip.compress(orjson.dumps(payload), mtime=0)).decode("ascii")


def decode_full(status: str) -> dict[str, Any]:
    return orjson.loads(gzip.decompress(base64.b64decode(status)))


def encode_incremental(payload: dict[str, Any]) -> str:
    return orjson.dumps(payload).decode()


def decode_status(status: str) -> dict[str, Any]:
    """Either kind of status string back into a payload (JSON starts with ``{``)."""
    return orjson.loads(status) if status.startswith("{") else decode_full(status)


@dataclass(frozen=True, slots=True)
class Status:
    """One ``ReceiveMessage`` argument, encoded once for every subscriber."""

    full: bool
    text: str
    payload: dict[str, Any]


@dataclass(slots=True)
class CompactStream:
    """Turns successive live snapshots of one event into the hub's full and incremental payloads.

    ``next`` is given the snapshot and a time in ms (receive or race time: no clock is read
    here). It returns a full payload on the first call, at least ``full_every_ms`` after the
    last full one, and on a new session or a scoreboard reset; otherwise an incremental payload
    with what changed since the payload before, or None when nothing did.
    """

    event: EventInfo
    full_every_ms: int = FULL_EVERY_MS
    # What the last payload said, to send only what changed since.
    _last_full_ms: int | None = field(default=None, init=False)
    _started: bool = field(default=False, init=False)
    _session_key: tuple[int | None, int] | None = field(default=None, init=False)
    _status: dict[str, Any] | None = field(default=None, init=False)
    _entries: dict[str, dict[str, Any]] = field(default_factory=dict, init=False)
    _positions: dict[str, dict[str, Any]] = field(default_factory=dict, init=False)
    _durations: list[dict[str, Any]] = field(default_factory=list, init=False)

    def next(self, snapshot: dict[str, Any], now_ms: int) -> Status | None:
        index, session = live_session_of(snapshot)
        key = None if session is None else (index, session.get("resets") or 0)
        reset = self._started and key != self._session_key
        self._started, self._session_key = True, key
        due = self._last_full_ms is None or now_ms - self._last_full_ms >= self.full_every_ms
        if session is None:
            if not due and not reset:
                return None
            self._remember(None, {}, {}, [], now_ms)
            return self._full(full_payload(None, self.event, reset))
        event_id = self.event.event_id
        status = event_status(session, event_id)
        positions = car_positions(session, event_id)
        entries = {car["registration"]: event_entry(car) for car in session["cars"]}
        durations = flag_durations(session, self.event.date)
        if due or reset:
            payload = _payload(
                self.event,
                status,
                list(entries.values()),
                [],
                list(positions.values()),
                [],
                durations,
                reset,
            )
            self._remember(status, entries, positions, durations, now_ms)
            return self._full(payload)
        entry_updates = [e for reg, e in entries.items() if self._entries.get(reg) != e]
        position_updates = [p for reg, p in positions.items() if self._positions.get(reg) != p]
        durations_changed = durations != self._durations
        if not (entry_updates or position_updates or durations_changed or status != self._status):
            return None
        payload = _payload(
            self.event,
            status,
            [],
            entry_updates,
            [],
            position_updates,
            durations if durations_changed else None,
            False,
        )
        self._status, self._entries, self._positions = status, entries, positions
        self._durations = durations
        return Status(False, encode_incremental(payload), payload)

    def restart(self, event: EventInfo) -> None:
        """The state comes from another run (``event.epoch``): the next payload is a full one."""
        self.event = event
        self._last_full_ms = None

    def _remember(
        self,
        status: dict[str, Any] | None,
        entries: dict[str, dict[str, Any]],
        positions: dict[str, dict[str, Any]],
        durations: list[dict[str, Any]],
        now_ms: int,
    ) -> None:
        self._status, self._entries, self._positions = status, entries, positions
        self._durations = durations
        self._last_full_ms = now_ms

    def _full(self, payload: dict[str, Any]) -> Status:
        return Status(True, encode_full(payload), payload)


def live_session_of(snapshot: dict[str, Any]) -> tuple[int | None, dict[str, Any] | None]:
    """The session the hub shows: the one being scored, else the last one (its final state)."""
    sessions = snapshot.get("sessions") or []
    index = snapshot.get("current")
    if index is None or not 0 <= index < len(sessions):
        index = len(sessions) - 1 if sessions else None
    return index, (None if index is None else sessions[index])
