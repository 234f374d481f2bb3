"""Race control's penalty text read as an outcome: the rules a series words its penalties by.

"Warned", "2 laps", "drive through" …: ``PenaltyRules`` (from a series' settings with
``penalty_rules``) turn an entry's penalty text and status into a ``Penalty``; the first rule
that matches decides, and a voiding status cancels the outcome. Used by the control-log CSV
reader (``feeds.controllog``) and checked by the source configuration.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from trackside.feeds.controllog_records import (
    BLACK_FLAG,
    NO_PENALTY,
    PENALTY_LAPS,
    WARNING,
    Penalty,
)
from trackside.feeds.patterns import Pattern, compile_pattern

PENALTY_KINDS = frozenset({NO_PENALTY, WARNING, PENALTY_LAPS, BLACK_FLAG})
_NUMBER_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
}
_COUNT = r"(\d+|" + "|".join(_NUMBER_WORDS) + r")"


@dataclass(slots=True, frozen=True)
class PenaltyRule:
    """Penalty text matching ``pattern`` (a case-insensitive regex) has outcome ``kind``.

    For ``laps`` the count is ``laps`` when set, else the number the pattern's first group
    captured (digits or a word, one to ten).
    """

    pattern: str
    kind: str
    laps: int | None = None


DEFAULT_RULES = (
    PenaltyRule(r"\bwarn(?:ed|ing|ings)?\b", WARNING),
    PenaltyRule(r"\b" + _COUNT + r"\s*-?\s*laps?\b", PENALTY_LAPS),
    PenaltyRule(
        r"drive[\s-]*thr(?:ough|u)|stop[\s/&+-]*(?:and|n)?[\s/&+-]*go|black[\s-]*flag",
        BLACK_FLAG,
    ),
)
# Statuses that cancel an entry's penalty (the text stays, the outcome is none).
DEFAULT_VOID_STATUSES = frozenset(
    {"void", "voided", "rescinded", "cancelled", "canceled", "overturned", "withdrawn"}
)


@dataclass(slots=True, frozen=True)
class PenaltyRules:
    """A series' reading of penalty text. The first rule that matches decides."""

    rules: tuple[PenaltyRule, ...] = DEFAULT_RULES
    void_statuses: frozenset[str] = DEFAULT_VOID_STATUSES
    _compiled: tuple[Pattern, ...] = field(default=(), compare=False, repr=False)

    def __post_init__(self) -> None:
        for rule in self.rules:
            if rule.kind not in PENALTY_KINDS:
                raise ValueError(f"unknown penalty kind {rule.kind!r} for {rule.pattern!r}")
        compiled = tuple(compile_pattern(rule.pattern) for rule in self.rules)
        object.__setattr__(self, "_compiled", compiled)
        object.__setattr__(
            self, "void_statuses", frozenset(s.casefold() for s in self.void_statuses)
        )

    def classify(self, text: str, status: str = "") -> Penalty:
        """The outcome of an entry's penalty text; unknown text has no effect."""
        if not text.strip() or status.strip().casefold() in self.void_statuses:
            return Penalty()
        for rule, pattern in zip(self.rules, self._compiled, strict=True):
            match = pattern.search(text)
            if match is None:
                continue
            if rule.kind != PENALTY_LAPS:
                return Penalty(rule.kind)
            laps = rule.laps if rule.laps is not None else _count(match)
            if laps is not None:
                return Penalty(PENALTY_LAPS, laps)
        return Penalty()


def _count(match: Any) -> int | None:
    group = match.group(1) if match.re.groups else None
    if group is None:
        return None
    group = group.casefold()
    # isdecimal, not isdigit: "²".isdigit() is True and int("²") raises.
    return int(group) if group.isascii() and group.isdecimal() else _NUMBER_WORDS.get(group)


def penalty_rules(
    config: Mapping[str, str], void_statuses: Iterable[str] = DEFAULT_VOID_STATUSES
) -> PenaltyRules:
    """Rules from a series' settings: ``{pattern: outcome}`` in order, where outcome is
    ``warning``, ``black_flag``, ``none``, ``laps`` (count from the pattern) or ``laps:N``.

    Raises ValueError on a bad pattern or outcome: this is configuration, not feed input.
    """
    rules = []
    for pattern, outcome in config.items():
        kind, _, count = outcome.strip().partition(":")
        if count and not count.strip().isdigit():
            raise ValueError(f"penalty outcome {outcome!r}: the lap count is not a number")
        rules.append(PenaltyRule(pattern, kind.strip(), int(count) if count else None))
    return PenaltyRules(tuple(rules), frozenset(void_statuses))
