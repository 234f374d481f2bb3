"""Typed records of a race-control log import.

Race control edits its log in place; trackside keeps every version. Each record carries the
``key`` of the row it came from (its id, else its spreadsheet row) and a ``revision``: a later
revision of a key supersedes the earlier ones, a ``ControlLogRemoval`` withdraws the key. Times
are milliseconds since local midnight as race control wrote them, with the date when given.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

# Penalty outcomes.
NO_PENALTY = "none"
WARNING = "warning"
PENALTY_LAPS = "laps"
BLACK_FLAG = "black_flag"  # drive-through, stop-and-go: the car is called in

# The key of the one bad row a failed import (no header found) produces.
HEADER_KEY = "header"


@dataclass(slots=True, frozen=True)
class Penalty:
    """What an entry's penalty text means under the series' rules."""

    kind: str = NO_PENALTY
    laps: int = 0  # for PENALTY_LAPS


@dataclass(slots=True, frozen=True)
class ControlLogEntry:
    """One incident as race control logged it.

    The penalty, if any, applies to the first car listed (logs list the offender first).
    """

    key: str
    row: int
    time_of_day_ms: int
    date: date | None
    cars: tuple[str, ...]
    corner: str
    description: str
    penalty_text: str
    penalty: Penalty
    status: str
    extra: tuple[tuple[str, str], ...] = ()  # (header, value) of columns not mapped
    revision: int = 1

    @property
    def penalized_car(self) -> str | None:
        return self.cars[0] if self.cars and self.penalty.kind != NO_PENALTY else None


@dataclass(slots=True, frozen=True)
class ControlLogBadRow:
    """A row that could not be read: kept with its cells and the reason, never dropped."""

    key: str
    row: int
    cells: tuple[str, ...]
    reason: str
    revision: int = 1


@dataclass(slots=True, frozen=True)
class ControlLogRemoval:
    """A key the log held that the latest import no longer has (row deleted upstream)."""

    key: str
    row: int
    revision: int


ControlLogRecord = ControlLogEntry | ControlLogBadRow | ControlLogRemoval


def latest(records: Iterable[ControlLogRecord]) -> dict[str, ControlLogRecord]:
    """The newest revision of every key in a log (later wins among equal revisions), in the
    order keys first appeared."""
    out: dict[str, ControlLogRecord] = {}
    for record in records:
        held = out.get(record.key)
        if held is None or record.revision >= held.revision:
            out[record.key] = record
    return out


@dataclass(slots=True, frozen=True)
class ControlLogIssue:
    """A problem to report (diagnostics), derived from the log; not itself a log record."""

    key: str
    row: int
    reason: str
    cars: tuple[str, ...] = ()  # the unknown cars, for an unknown-car issue
