"""Organizer-supplied regular expressions, compiled with RE2 (linear time, bounded memory).

Penalty rules come from whoever configures an event and run on the event loop for every
control-log row; Python's backtracking ``re`` can be made to take hours on one line
(``(a+)+$``), freezing every live board. RE2 cannot backtrack, so it refuses what would need it
(backreferences, lookaround) instead of running it.
"""

from __future__ import annotations

from typing import Any

import re2

MAX_MEM = 8 << 20  # bytes of automaton per pattern: a pattern that needs more is refused

_OPTIONS = re2.Options()
_OPTIONS.case_sensitive = False
_OPTIONS.log_errors = False  # a refused pattern is the organizer's 422, not a log line
_OPTIONS.max_mem = MAX_MEM

Pattern = Any  # re2's compiled pattern: search() → match with group(), re.groups


class PatternError(ValueError):
    """The pattern is not one RE2 can run (bad syntax, backreference, lookaround, too big)."""


def compile_pattern(pattern: str) -> Pattern:
    """Compile case-insensitively, or say why RE2 cannot take it."""
    try:
        return re2.compile(pattern, _OPTIONS)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise PatternError(f"not a pattern RE2 can run: {reason}") from None
