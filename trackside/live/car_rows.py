"""The cars of one live session, worked out again only as far as something changed them.

In a relay batch a handful of cars cross the line and the rest show what they showed before;
most batches carry only a heartbeat. So:

- while no record changed the session's board (``RaceEngine.board_changes``, the scorer's
  revision, the flag), only the clock moved: the standings are kept and only asked which cars
  are stale now (``timing.standings.stale_marks``); when none turned, the cars are the same list;
- else a car whose values serialize to the very bytes they did last time keeps its dict
  (``CarRows``): ``1``, ``1.0`` and ``true`` differ there, as they do for the diff.

Either way the patch diff skips what did not change by identity, and every snapshot and patch
is the one a fresh build would give.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import orjson

from trackside.timing.extras import SessionExtras
from trackside.timing.results import CAR_FIELDS, car_dict, car_results
from trackside.timing.session import Session
from trackside.timing.standings import Standing, classify, stale_marks

REGISTRATION = CAR_FIELDS.index("registration")
Cars = list[dict[str, Any]]


class CarRows:
    """Makes a session's car dicts (``timing.results.car_results``'s ``car_row``)."""

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


class LiveCars:
    """The car results of one session, as its live snapshot shows them."""

    __slots__ = ("_cars", "_key", "_marks", "_rows", "_standings")

    def __init__(self) -> None:
        self._rows = CarRows()
        self._key: Hashable = None
        self._standings: list[Standing] = []
        self._marks: list[bool] | None = None
        self._cars: Cars = []

    def cars(self, session: Session, extras: SessionExtras, key: Hashable) -> Cars:
        """``key`` changes whenever a record may have changed the board other than its clock."""
        if key is not None and key == self._key:
            standings = self._standings
            marks = stale_marks(session, standings)
            if marks == self._marks:
                return self._cars
            for row, mark in zip(standings, marks or [False] * len(standings), strict=True):
                row.stale = mark
        else:
            standings = classify(session, extras.penalty_laps)
            marks = stale_marks(session, standings)
        cars = car_results(standings, extras, self._rows)
        self._key, self._standings, self._marks, self._cars = key, standings, marks, cars
        return cars
