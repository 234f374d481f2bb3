"""How an event reads its race-control log: where to poll it, its columns, its penalty rules.

Stored as JSON in ``control_log_sources``; checked here before it is stored, so a bad pattern
or an unknown column field is a 422 naming it, never a poll that fails later. An event with no
configuration reads uploads with the default columns and rules.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from trackside.controllog.models import ControlLogSource
from trackside.controllog.schemas import ControlLogSourceOut, PenaltyRuleOut
from trackside.errors import Invalid, NotFound
from trackside.feeds.controllog import ColumnMapping, column_mapping
from trackside.feeds.controllog_penalties import (
    DEFAULT_RULES,
    DEFAULT_VOID_STATUSES,
    PENALTY_KINDS,
    PenaltyRules,
    penalty_rules,
)
from trackside.feeds.patterns import PatternError, compile_pattern

# Wire names of the column fields (camelCase like the rest of the API).
_COLUMN_FIELDS = {"dayFirst": "day_first"}


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """A control-log source as a request gives it."""

    url: str | None
    interval_s: float
    columns: Mapping[str, str | Sequence[str] | bool] = field(default_factory=dict)
    penalty_rules: Sequence[tuple[str, str]] = ()  # (pattern, outcome), in order
    void_statuses: Sequence[str] | None = None


def _mapping(columns: Mapping[str, Any]) -> ColumnMapping:
    renamed = {_COLUMN_FIELDS.get(name, name): value for name, value in columns.items()}
    try:
        return column_mapping(renamed)
    except ValueError as exc:
        raise Invalid("columns", str(exc)) from None


def _rules(rules: Sequence[tuple[str, str]], void: Sequence[str] | None) -> PenaltyRules:
    statuses = DEFAULT_VOID_STATUSES if void is None else void
    if not rules:
        return PenaltyRules(DEFAULT_RULES, frozenset(statuses))
    for index, (pattern, outcome) in enumerate(rules):
        try:
            compile_pattern(pattern)
        except PatternError as exc:
            raise Invalid(f"penaltyRules.{index}.pattern", str(exc)) from None
        kind, _, count = outcome.strip().partition(":")
        if kind.strip() not in PENALTY_KINDS or (count and not count.strip().isdigit()):
            kinds = ", ".join(sorted(PENALTY_KINDS))
            raise Invalid(
                f"penaltyRules.{index}.outcome", f"use one of {kinds}, or laps:N (not {outcome!r})"
            )
    return penalty_rules(dict(rules), statuses)


def check(spec: SourceSpec) -> None:
    """``Invalid`` naming the field when the columns or rules cannot be used."""
    _mapping(spec.columns)
    if len({pattern for pattern, _ in spec.penalty_rules}) != len(spec.penalty_rules):
        raise Invalid("penaltyRules", "a pattern is given twice")
    _rules(spec.penalty_rules, spec.void_statuses)


def reading(row: ControlLogSource | None) -> tuple[ColumnMapping, PenaltyRules]:
    """The mapping and rules an event's log is read with (defaults without a source)."""
    if row is None:
        return ColumnMapping(), PenaltyRules()
    spec = to_spec(row)
    return _mapping(spec.columns), _rules(spec.penalty_rules, spec.void_statuses)


def to_spec(row: ControlLogSource) -> SourceSpec:
    void = orjson.loads(row.void_statuses)
    return SourceSpec(
        url=row.url,
        interval_s=row.interval_s,
        columns=orjson.loads(row.columns),
        penalty_rules=[(r["pattern"], r["outcome"]) for r in orjson.loads(row.penalty_rules)],
        void_statuses=None if void is None else list(void),
    )


async def put(db: AsyncSession, event_id: int, spec: SourceSpec) -> ControlLogSource:
    check(spec)
    row = await db.get(ControlLogSource, event_id)
    if row is None:
        row = ControlLogSource(event_id=event_id, polls=0)
        db.add(row)
    row.url = spec.url
    row.interval_s = spec.interval_s
    row.columns = orjson.dumps(dict(spec.columns)).decode()
    rules = [{"pattern": p, "outcome": o} for p, o in spec.penalty_rules]
    row.penalty_rules = orjson.dumps(rules).decode()
    void = None if spec.void_statuses is None else list(spec.void_statuses)
    row.void_statuses = orjson.dumps(void).decode()
    row.updated_at = datetime.now(UTC)
    row.last_error = None
    row.last_status = None
    await db.commit()
    return row


async def get(db: AsyncSession, event_id: int) -> ControlLogSource:
    row = await db.get(ControlLogSource, event_id)
    if row is None:
        raise NotFound(f"event {event_id} has no control log source")
    return row


async def delete(db: AsyncSession, event_id: int) -> None:
    """Forget the event's source configuration; the log's records stay."""
    await db.delete(await get(db, event_id))
    await db.commit()


def to_wire(row: ControlLogSource) -> ControlLogSourceOut:
    spec = to_spec(row)
    return ControlLogSourceOut(
        event_id=row.event_id,
        url=spec.url,
        interval_s=spec.interval_s,
        columns=dict(spec.columns),
        penalty_rules=[PenaltyRuleOut(pattern=p, outcome=o) for p, o in spec.penalty_rules],
        void_statuses=None if spec.void_statuses is None else list(spec.void_statuses),
        updated_at=row.updated_at.isoformat(),
        last_polled_at=row.last_polled_at.isoformat() if row.last_polled_at else None,
        last_status=row.last_status,
        last_error=row.last_error,
        polls=row.polls,
    )
