"""Records the server itself appends to the event log are JSON objects: read one back."""

from __future__ import annotations

from typing import Any

import orjson


def json_object(text: str) -> dict[str, Any]:
    """The stored JSON object; ``ValueError`` (said plainly) when the text is not one."""
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    return data
