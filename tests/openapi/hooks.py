"""schemathesis hooks: aim the ids it generates at the seeded world, so it reaches the
operations behind them (an id that names nothing only ever tests the 404).

Only values the schema allows are replaced: a negative case (an id of 0, a string) goes out
as generated, so the check that it is refused still means something. The world comes from
``TRACKSIDE_FUZZ_WORLD`` (JSON: parameter name → value), set by ``tests/openapi/harness.py``.
"""

from __future__ import annotations

import json
import os
from typing import Any

import schemathesis

WORLD: dict[str, Any] = json.loads(os.environ.get("TRACKSIDE_FUZZ_WORLD", "{}"))
MAX_ID = 2**31 - 1


def _valid_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID


@schemathesis.hook
def map_path_parameters(
    context: Any, path_parameters: dict[str, Any] | None
) -> dict[str, Any] | None:
    if not path_parameters:
        return path_parameters
    mapped = dict(path_parameters)
    for name, value in path_parameters.items():
        if name == "index" and isinstance(value, int) and value >= 0:
            mapped[name] = 0  # the first session of the live log
        elif name == "realm" and isinstance(value, str):
            mapped[name] = WORLD.get("realm", value)
        elif name in WORLD and _valid_id(value):
            mapped[name] = WORLD[name]
    return mapped


# Failures that are known and owned elsewhere, each with why; everything else fails the run.
KNOWN = {
    # A CSV upload is text: schemathesis sends a "wrong type" JSON value ({} or 0) as its
    # text, which is a CSV of one bad row, and the import reports that row.
    "POST /events/{eventId}/control-log": lambda failure, response: (
        type(failure).__name__ == "AcceptedNegativeData"
    ),
}


@schemathesis.hook
def filter_failure(context: Any, failure: Any, case: Any, response: Any) -> bool:
    known = KNOWN.get(case.operation.label)
    return not (known is not None and known(failure, response))
