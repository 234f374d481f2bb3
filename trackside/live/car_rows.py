"""The car dicts of one live session, kept the same objects while a car's values stay the same.

In a relay batch a handful of cars cross the line and the rest show what they showed before.
Handing back the last dict of such a car saves building it, and lets the patch diff skip it by
identity instead of comparing its fifty fields. A dict is kept only when its values serialize
to the very bytes they did last time (``1``, ``1.0`` and ``true`` differ there, as they do for
the diff), so every snapshot and patch is what a fresh dict would give.
"""

from __future__ import annotations

from typing import Any

import orjson

from trackside.timing.results import CAR_FIELDS, car_dict

REGISTRATION = CAR_FIELDS.index("registration")


class CarRows:
    """Makes a session's car dicts (``timing.results.session_result``'s ``car_row``)."""

    __slots__ = ("_last",)

    def __init__(self) -> None:
        self._last: dict[str, tuple[bytes, dict[str, Any]]] = {}

    def __call__(self, values: tuple[Any, ...]) -> dict[str, Any]:
        data = orjson.dumps(values)
        registration = values[REGISTRATION]
        last = self._last.get(registration)
        if last is not None and last[0] == data:
            return last[1]
        row = car_dict(values)
        self._last[registration] = (data, row)
        return row
