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
from urllib.parse import urlsplit, urlunsplit

import schemathesis
from pydantic import HttpUrl, TypeAdapter, ValidationError

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


# The control-log source's URL is polled by the server: a generated host (``https://0.com``)
# would be looked up in DNS and fetched from the internet, and a lookup that the resolver drops
# stalls the PUT for its 5 s timeout. A valid URL is sent with its host swapped for a loopback
# port nothing listens on (the harness allows private addresses for this), so the PUT and its
# poll run as they would, refused at once, and nothing leaves the machine. An invalid URL (a
# negative case) goes out as generated.
POLLED_URL = "PUT /events/{eventId}/control-log/source"
NOBODY = "127.0.0.1:9"
URL_MAX = 2083  # the schema's maxLength
HTTP_URL: TypeAdapter[HttpUrl] = TypeAdapter(HttpUrl)


def _local(url: Any) -> Any:
    if not isinstance(url, str) or len(url) > URL_MAX:
        return url
    try:
        HTTP_URL.validate_python(url)
    except ValidationError:
        return url
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return url
    swapped = urlunsplit(("http", NOBODY, parts.path, parts.query, parts.fragment))
    return swapped if len(swapped) <= URL_MAX else url


@schemathesis.hook
def map_case(context: Any, case: Any) -> Any:
    if case.operation.label == POLLED_URL and isinstance(case.body, dict) and "url" in case.body:
        case.body = {**case.body, "url": _local(case.body["url"])}
    return case


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
