"""Race-control log import: CSV in, typed records out, never an exception.

Race control keeps its incident log in a spreadsheet (time, car(s), corner, description,
penalty, status). Each series names its columns and words its penalties its own way, so both
are configuration: a ``ColumnMapping`` of header names and ``PenaltyRules``
(``feeds.controllog_penalties``). The CSV may carry a BOM, title rows above the header, ``,``
``;`` or tab delimiters, quoted fields with commas or line breaks, and Windows-1252 bytes.

Every data row becomes a ``ControlLogEntry`` or, when it cannot be read (no or unreadable time,
a repeated id), a ``ControlLogBadRow`` that keeps the cells and the reason; the other rows are
never dropped. A row is keyed by its id column when the log has one, else by its spreadsheet
row number. ``changes`` compares an import with what the log already holds and returns only
new revisions, so an entry edited upstream becomes a new record that supersedes the old one,
and a row deleted upstream becomes a ``ControlLogRemoval``: nothing changes silently.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date

from trackside.feeds.controllog_penalties import PenaltyRules
from trackside.feeds.controllog_records import (
    HEADER_KEY,
    ControlLogBadRow,
    ControlLogEntry,
    ControlLogIssue,
    ControlLogRecord,
    ControlLogRemoval,
    latest,
)

# ---------------------------------------------------------------------------- columns


@dataclass(slots=True, frozen=True)
class ColumnMapping:
    """Header names (any case and spacing) of each field, in order of preference.

    Every column matching ``cars`` contributes cars (logs often have two "Car #" columns);
    one cell may also list several (``12 / 34``, ``12 & 34``, ``12 vs 34``). Slashed dates are
    read month first (US sheets) unless ``day_first``.
    """

    time: tuple[str, ...] = ("time", "timestamp", "time of day", "date/time")
    date: tuple[str, ...] = ("date", "day")  # when the date has a column of its own
    cars: tuple[str, ...] = (
        "car",
        "car #",
        "car#",
        "car no",
        "car no.",
        "car number",
        "cars",
        "car(s)",
        "car 1",
        "car 2",
        "car1",
        "car2",
    )
    corner: tuple[str, ...] = ("corner", "turn", "station", "location")
    description: tuple[str, ...] = ("description", "incident", "note", "notes")
    penalty: tuple[str, ...] = ("penalty", "penalty / action", "penalty/action", "action")
    status: tuple[str, ...] = ("status",)
    id: tuple[str, ...] = ("id", "incident id", "incident #", "entry id", "ref")
    day_first: bool = False


FIELDS = ("time", "date", "cars", "corner", "description", "penalty", "status", "id")


def column_mapping(config: Mapping[str, str | Sequence[str] | bool]) -> ColumnMapping:
    """A mapping from a series' settings: ``{"time": "Zeit", "cars": ["Auto 1", "Auto 2"]}``;
    fields left out keep the defaults. Raises ValueError on an unknown field name."""
    mapping = ColumnMapping()
    for name, value in config.items():
        if name == "day_first":
            mapping = replace(mapping, day_first=bool(value))
        elif name in FIELDS and not isinstance(value, bool):
            names = (value,) if isinstance(value, str) else tuple(str(v) for v in value)
            mapping = replace(mapping, **{name: names})
        else:
            raise ValueError(f"unknown control log field {name!r}")
    return mapping


def _norm(header: str) -> str:
    return " ".join(header.replace("\ufeff", "").split()).casefold()


@dataclass(slots=True)
class _Columns:
    headers: tuple[str, ...]
    single: dict[str, int]
    cars: list[int]

    @classmethod
    def find(cls, row: Sequence[str], mapping: ColumnMapping) -> _Columns | None:
        names = [_norm(cell) for cell in row]
        single: dict[str, int] = {}
        for name in FIELDS:
            if name == "cars":
                continue
            for alias in getattr(mapping, name):
                if _norm(alias) in names:
                    single[name] = names.index(_norm(alias))
                    break
        if "time" not in single:
            return None
        car_names = {_norm(alias) for alias in mapping.cars}
        taken = set(single.values())
        cars = [i for i, name in enumerate(names) if name in car_names and i not in taken]
        return cls(tuple(cell.strip() for cell in row), single, cars)


# ---------------------------------------------------------------------------- cells

_DATE = r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}/\d{1,2}/\d{2,4}|\d{1,2}\.\d{1,2}\.\d{2,4}"
_CLOCK = re.compile(
    r"(?:(?P<date>" + _DATE + r")[ T]+)?"
    r"(?P<h>\d{1,2}):(?P<m>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<f>\d{1,6}))?)?"
    r"\s*(?P<ampm>[ap]\.?m\.?)?",
    re.IGNORECASE,
)
_CAR_SPLIT = re.compile(r"\s*(?:[,/&+;]|\bvs\.?|\bv\.?(?=\s)|\band\b)\s*", re.IGNORECASE)


class CellError(ValueError):
    """Why a cell cannot be read; becomes the reason of a bad row."""


def parse_log_time(text: str, day_first: bool = False) -> tuple[date | None, int]:
    """A control-log time (``14:32:05``, ``2:32:05 PM``, ``2025-04-26 14:32``,
    ``4/26/2025 2:32:05 PM``, ``26.04.2025 14:32:05``) → (date or None, ms since midnight)."""
    match = _CLOCK.fullmatch(text.strip())
    if match is None:
        raise CellError(f"unreadable time {text!r}")
    hour, minute = int(match["h"]), int(match["m"])
    second = int(match["s"] or 0)
    frac = (match["f"] or "").ljust(3, "0")[:3]
    if match["ampm"]:
        if not 1 <= hour <= 12:
            raise CellError(f"hour out of range in {text!r}")
        hour = hour % 12 + (12 if match["ampm"][0] in "pP" else 0)
    if hour > 23 or minute > 59 or second > 59:
        raise CellError(f"time out of range in {text!r}")
    ms = ((hour * 60 + minute) * 60 + second) * 1000 + int(frac)
    return (_date(match["date"], day_first, text) if match["date"] else None), ms


def parse_log_date(text: str, day_first: bool = False) -> date:
    """A date cell of its own (``2025-04-26``, ``4/26/2025``, ``26.04.2025``)."""
    if re.fullmatch(_DATE, text.strip()) is None:
        raise CellError(f"unreadable date {text!r}")
    return _date(text.strip(), day_first, text)


def _date(text: str, day_first: bool, cell: str) -> date:
    if "-" in text:
        year, month, day = (int(p) for p in text.split("-"))
    elif "/" in text:
        a, b, year = (int(p) for p in text.split("/"))
        day, month = (a, b) if day_first else (b, a)
    else:
        day, month, year = (int(p) for p in text.split("."))
    if year < 100:
        year += 2000
    try:
        return date(year, month, day)
    except ValueError:
        raise CellError(f"no such date in {cell!r}") from None


def parse_cars(text: str) -> tuple[str, ...]:
    """Car numbers of a cell, upper-cased, ``#`` dropped, order kept (``"#12 / 34x"``)."""
    cars: list[str] = []
    for part in _CAR_SPLIT.split(text):
        car = part.strip().lstrip("#").strip().upper()
        if car and car not in cars:
            cars.append(car)
    return tuple(cars)


# ---------------------------------------------------------------------------- CSV


def decode_text(data: bytes | str) -> str:
    """Text of an upload: BOM dropped; UTF-16 by its BOM (Excel's "Unicode Text"), else
    UTF-8, else Windows-1252; NUL bytes removed."""
    if isinstance(data, bytes):
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            return data.decode("utf-16", errors="replace").lstrip("\ufeff").replace("\x00", "")
        data = data.removeprefix(b"\xef\xbb\xbf")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="replace")
    else:
        text = data
    return text.lstrip("\ufeff").replace("\x00", "")


def _rows(text: str) -> list[list[str]]:
    head = text.splitlines()[:20]
    best, widest = ",", 0
    for delimiter in (",", ";", "\t"):
        width = max((len(row) for row in csv.reader(head, delimiter=delimiter)), default=0)
        if width > widest:
            best, widest = delimiter, width
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=best))


HEADER_SEARCH_ROWS = 20


def _find_header(rows: list[list[str]], mapping: ColumnMapping) -> tuple[int, _Columns] | None:
    """Sheets often carry title rows above the header: the first row naming a time column."""
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        columns = _Columns.find(row, mapping)
        if columns is not None:
            return index, columns
    return None


def parse_control_log(
    data: bytes | str,
    mapping: ColumnMapping | None = None,
    rules: PenaltyRules | None = None,
) -> list[ControlLogEntry | ControlLogBadRow]:
    """Every data row of a control-log CSV as an entry or a bad row, in sheet order.

    When no header row (one naming a time column) is found within the first rows, the whole
    import is one bad row keyed ``HEADER_KEY``; ``changes`` then withdraws nothing.
    """
    mapping = mapping or ColumnMapping()
    rules = rules or PenaltyRules()
    try:
        rows = _rows(decode_text(data))
    except csv.Error as exc:
        return [ControlLogBadRow(HEADER_KEY, 0, (), f"not readable as CSV: {exc}")]
    found = _find_header(rows, mapping)
    if found is None:
        looked = ", ".join(mapping.time)
        first = tuple(rows[0]) if rows else ()
        return [ControlLogBadRow(HEADER_KEY, 0, first, f"no header with a time column ({looked})")]
    index, columns = found
    out: list[ControlLogEntry | ControlLogBadRow] = []
    ids: dict[str, int] = {}
    for number, row in enumerate(rows[index + 1 :], start=index + 2):
        cells = tuple(cell.strip() for cell in row)
        if any(cells):
            out.append(_record(cells, number, columns, mapping, rules, ids))
    return out


def _record(
    cells: tuple[str, ...],
    number: int,
    columns: _Columns,
    mapping: ColumnMapping,
    rules: PenaltyRules,
    ids: dict[str, int],
) -> ControlLogEntry | ControlLogBadRow:
    def cell(name: str) -> str:
        i = columns.single.get(name)
        return cells[i] if i is not None and i < len(cells) else ""

    key = f"row:{number}"
    row_id = cell("id")
    if row_id:
        if row_id in ids:
            reason = f"id {row_id!r} repeats row {ids[row_id]}"
            return ControlLogBadRow(key, number, cells, reason)
        ids[row_id] = number
        key = f"id:{row_id}"
    time_text = cell("time")
    if not time_text:
        return ControlLogBadRow(key, number, cells, "no time")
    try:
        day, time_ms = parse_log_time(time_text, mapping.day_first)
        if day is None and cell("date"):
            day = parse_log_date(cell("date"), mapping.day_first)
    except CellError as exc:
        return ControlLogBadRow(key, number, cells, str(exc))
    cars: list[str] = []
    for i in columns.cars:
        if i < len(cells):
            cars.extend(car for car in parse_cars(cells[i]) if car not in cars)
    used = {*columns.single.values(), *columns.cars}
    extra = tuple(
        (columns.headers[i] if i < len(columns.headers) else f"column {i + 1}", value)
        for i, value in enumerate(cells)
        if value and i not in used
    )
    status, penalty_text = cell("status"), cell("penalty")
    return ControlLogEntry(
        key=key,
        row=number,
        time_of_day_ms=time_ms,
        date=day,
        cars=tuple(cars),
        corner=cell("corner"),
        description=cell("description"),
        penalty_text=penalty_text,
        penalty=rules.classify(penalty_text, status),
        status=status,
        extra=extra,
    )


# ---------------------------------------------------------------------------- changes


def _content(record: ControlLogRecord) -> ControlLogRecord:
    # The row number is where a keyed row sits today; moving it is no change of content.
    return replace(record, row=0, revision=0)


def changes(
    history: Iterable[ControlLogRecord],
    current: Sequence[ControlLogEntry | ControlLogBadRow],
) -> list[ControlLogRecord]:
    """The records to append after an import: new and changed rows as new revisions, then a
    removal for every key the log holds that the import no longer has.

    A failed import (no header) adds its bad row once and withdraws nothing.
    """
    held = latest(history)
    failed = any(record.key == HEADER_KEY for record in current)
    out: list[ControlLogRecord] = []
    for record in current:
        previous = held.get(record.key)
        if previous is None:
            out.append(record)
        elif isinstance(previous, ControlLogRemoval) or _content(previous) != _content(record):
            out.append(replace(record, revision=previous.revision + 1))
    if failed:
        return out
    keys = {record.key for record in current}
    for key, previous in held.items():
        if key not in keys and not isinstance(previous, ControlLogRemoval):
            out.append(ControlLogRemoval(key, previous.row, previous.revision + 1))
    return out


def issues(
    records: Iterable[ControlLogRecord], known_cars: Collection[str] | None = None
) -> list[ControlLogIssue]:
    """What to report about the current log: its bad rows and, given the event's car numbers
    (compared upper-case), entries naming a car that is not entered."""
    known = None if known_cars is None else {car.strip().upper() for car in known_cars}
    out: list[ControlLogIssue] = []
    for record in latest(records).values():
        if isinstance(record, ControlLogBadRow):
            out.append(ControlLogIssue(record.key, record.row, record.reason))
        elif isinstance(record, ControlLogEntry) and known is not None:
            unknown = [car for car in record.cars if car not in known]
            if unknown:
                reason = "unknown car " + ", ".join(unknown)
                out.append(ControlLogIssue(record.key, record.row, reason, tuple(unknown)))
    return sorted(out, key=lambda issue: issue.row)
