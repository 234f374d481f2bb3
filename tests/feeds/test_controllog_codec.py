"""Control-log records as the event log stores them: JSON that decodes to the equal record."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.feeds.test_controllog import WRL
from trackside.feeds import controllog_codec
from trackside.feeds.controllog import changes, parse_control_log
from trackside.feeds.controllog_records import (
    BLACK_FLAG,
    ControlLogEntry,
    ControlLogRemoval,
    Penalty,
)


def test_every_record_of_an_import_round_trips() -> None:
    records = changes([], parse_control_log(WRL))
    last_row = WRL.rstrip("\n,").rsplit("\n", 1)[0] + "\n"  # the sheet without its last row
    edited = changes(records, parse_control_log(last_row.replace("1 Lap", "2 Laps")))
    assert {type(r) for r in edited} == {ControlLogEntry, ControlLogRemoval}
    for record in [*records, *edited, *changes(records, parse_control_log("no log"))]:
        text = controllog_codec.encode(record)
        assert controllog_codec.decode(text) == record
    # changes() sees a stored log exactly as the one it made: nothing to append again.
    stored = [controllog_codec.decode(controllog_codec.encode(r)) for r in records]
    assert changes(stored, parse_control_log(WRL)) == []


@given(
    cars=st.lists(st.text(min_size=1, max_size=5), max_size=3),
    text=st.text(max_size=30),
    laps=st.integers(0, 10),
    day=st.dates() | st.none(),
    extra=st.lists(st.tuples(st.text(max_size=8), st.text(max_size=8)), max_size=3),
)
def test_any_entry_round_trips(
    cars: list[str], text: str, laps: int, day: date | None, extra: list[tuple[str, str]]
) -> None:
    entry = ControlLogEntry(
        key=f"id:{text}",
        row=3,
        time_of_day_ms=123_456,
        date=day,
        cars=tuple(cars),
        corner=text,
        description=text,
        penalty_text=text,
        penalty=Penalty(BLACK_FLAG, laps),
        status=text,
        extra=tuple(extra),
        revision=2,
    )
    assert controllog_codec.decode(controllog_codec.encode(entry)) == entry


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("{", "not JSON"),
        ("[1]", "not a JSON object"),
        ('{"kind": "entry"}', "KeyError"),
        ('{"kind": "gossip", "key": "k", "row": 1, "revision": 1}', "unknown kind"),
        ('{"kind": "removal", "key": "k", "row": "1", "revision": 1}', "row is not an integer"),
        ('{"kind": "bad_row", "key": "k", "row": 1, "revision": 1, "cells": [1], "reason": ""}',
         "list of strings"),
    ],
)  # fmt: skip
def test_what_is_not_a_record_says_why(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        controllog_codec.decode(text)
