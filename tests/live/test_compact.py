"""The hub's compact payload: exactly the reference's keys and formats, full and incremental."""

from __future__ import annotations

import base64
import gzip
import itertools
from datetime import date

import orjson

from tests.conftest import capture
from tests.live.test_live_captures import RACE_DAY
from trackside.feeds.capture import read_records
from trackside.feeds.clock import format_interval
from trackside.feeds.controllog import changes, parse_control_log
from trackside.feeds.rmonitor import parse_lines
from trackside.live.compact import (
    FLAG_CODES,
    CompactStream,
    EventInfo,
    car_positions,
    decode_full,
    decode_status,
    encode_full,
    full_payload,
    result_time,
    transponder_id,
)
from trackside.live.snapshot import SnapshotBuilder, build_snapshot
from trackside.timing.engine import RaceEngine
from trackside.timing.loops import Loop, LoopCrossing, LoopKind, LoopLayout
from trackside.timing.scorer import Scorer

EVENT = EventInfo(event_id=42, name="Road America 8 Hour", date=date(2025, 4, 26))
PAYLOAD_KEYS = ["e", "n", "es", "ee", "eeu", "cps", "cpu", "fd", "r"]
STATUS_KEYS = ["eid", "f", "ltg", "ttg", "tt", "rt", "pq"]
ENTRY_KEYS = ["no", "nm", "t", "c"]
# Every field of the reference's CarPosition table, in its order.
POSITION_KEYS = [
    *("eid", "sid", "n", "tp", "class", "bt", "bl", "ibt", "btc", "cg", "cd", "og", "od"),
    *("ttm", "ltm", "llp", "ovp", "clp", "osp", "opg", "icsp", "cpg", "ompg", "cmpg", "pl"),
    *("pw", "enp", "psf", "exp", "ip", "lip", "ln", "st", "flg"),
]


def _race_day_session() -> dict:
    engine = RaceEngine()
    for name in RACE_DAY:
        engine.apply_all(item.record for item in read_records(capture(name).read_bytes()))
    return build_snapshot(engine)["sessions"][0]


def test_full_payload_has_every_documented_field() -> None:
    payload = full_payload(_race_day_session(), EVENT)
    assert list(payload) == PAYLOAD_KEYS
    assert (payload["e"], payload["n"], payload["r"]) == (42, "Road America 8 Hour", False)
    assert list(payload["es"]) == STATUS_KEYS
    assert payload["eeu"] == [] and payload["cpu"] == []
    assert len(payload["ee"]) == len(payload["cps"]) == 52
    assert all(list(entry) == ENTRY_KEYS for entry in payload["ee"])
    assert all(list(position) == POSITION_KEYS for position in payload["cps"])
    assert all(list(duration) == ["f", "s", "e"] for duration in payload["fd"])


def test_values_follow_the_reference_formats() -> None:
    payload = full_payload(_race_day_session(), EVENT)
    status = payload["es"]
    assert status["eid"] == "42" and status["f"] == FLAG_CODES["green"] == 1
    assert status["ltg"] == 9999 and status["pq"] is False
    for clock in ("ttg", "tt", "rt"):
        hours, minutes, seconds = status[clock].split(":")
        assert len(hours) == len(minutes) == len(seconds) == 2
    cars = {cp["n"]: cp for cp in payload["cps"]}
    # The reference's worked example (rmonitor-protocol.md §6).
    leader = payload["cps"][0]
    assert (leader["n"], leader["ovp"], leader["llp"]) == ("2", 1, 3)
    assert (leader["ttm"], leader["og"], leader["od"]) == ("00:08:04.554", "", "")
    assert (cars["70"]["og"], cars["70"]["od"], cars["70"]["opg"]) == ("0.787", "0.787", -1)
    c149 = cars["149"]
    assert (c149["ovp"], c149["og"], c149["od"]) == (47, "15.925", "1 lap")
    assert (c149["class"], c149["clp"], c149["cg"], c149["cd"]) == ("GP2", 9, "15.925", "27.411")
    assert cars["70"]["tp"] == 58488 and cars["70"]["sid"] == "67" and cars["70"]["eid"] == "42"
    assert all(cp["flg"] == 1 for cp in payload["cps"])
    # No pit loops or race-control log yet: the documented neutral values.
    neutral = {"pl": 0, "pw": 0, "enp": False, "psf": False, "exp": False, "ip": False}
    assert all({k: cp[k] for k in neutral} == neutral and cp["ln"] == "" for cp in cars.values())
    # A yellow called off, then the start under yellow and green, on the timing PC's clock.
    assert [d["f"] for d in payload["fd"]] == [0, 2, 0, 2, 1]
    assert payload["fd"][1]["s"] == "2025-04-26T08:58:55"
    assert payload["fd"][3]["s"] == "2025-04-26T09:00:00"
    assert payload["fd"][3]["e"] == payload["fd"][4]["s"] and payload["fd"][4]["e"] is None
    entry = next(e for e in payload["ee"] if e["no"] == "70")
    assert entry == {"no": "70", "nm": "Round 3 Racing", "t": "", "c": "GTO"}


def test_pit_loops_and_race_control_fill_their_fields() -> None:
    """Car 70 (transponder 58488) pits during the race; race control warns it and gives
    car 2 a lap: the payload carries what the loops and the log say."""
    layout = LoopLayout([Loop("Pit In", LoopKind.PIT_IN, 1), Loop("Pit Out", LoopKind.PIT_OUT, 2)])
    scorer = Scorer(layout=layout)
    for name in RACE_DAY:
        scorer.apply_all(item.record for item in read_records(capture(name).read_bytes()))
    scorer.apply(LoopCrossing("58488", 1_000, 1))
    log = "Time,Car,Penalty\n09:05:00,70,Warning\n09:06:00,70,Warning\n09:07:00,2,1 lap\n"
    scorer.apply_all(changes([], parse_control_log(log)))
    cars = car_positions(build_snapshot(scorer)["sessions"][0], 42)
    assert {k: cars["70"][k] for k in ("pl", "pw", "enp", "exp", "ip", "lip", "psf", "ln")} == {
        "pl": 0,
        "pw": 2,
        "enp": True,
        "exp": False,
        "ip": True,
        "lip": False,
        "psf": False,
        "ln": "Pit In",
    }
    # Car 2 led on 3 laps; its penalty lap puts it behind the cars on 3 laps.
    assert (cars["2"]["pl"], cars["2"]["llp"]) == (1, 2)
    assert cars["2"]["ovp"] > cars["70"]["ovp"] == 1
    scorer.apply(LoopCrossing("58488", 40_000, 2))
    after = car_positions(build_snapshot(scorer)["sessions"][0], 42)["70"]
    assert (after["ip"], after["exp"], after["ln"]) == (False, True, "Pit Out")


def test_positions_gained_flags() -> None:
    positions = car_positions(_race_day_session(), 42)
    most = [cp for cp in positions.values() if cp["ompg"]]
    assert most and all(cp["opg"] == max(p["opg"] for p in positions.values()) for cp in most)
    for class_name in {cp["class"] for cp in positions.values()}:
        members = [cp for cp in positions.values() if cp["class"] == class_name]
        best = max(cp["cpg"] for cp in members)
        marked = [cp for cp in members if cp["cmpg"]]
        assert all(cp["cpg"] == best for cp in marked)
        assert bool(marked) == (best > 0)


def test_formats() -> None:
    assert result_time(None) == ""
    assert result_time(123_456) == "00:02:03.456"
    assert result_time(25 * 3_600_000 + 1) == "25:00:00.001"
    assert (format_interval(None, 1), format_interval(5, 3), format_interval(1_234, 0)) == (
        "1 lap",
        "3 laps",
        "1.234",
    )
    assert format_interval(None, 0) == ""
    assert (transponder_id("58488"), transponder_id("NE4"), transponder_id(None)) == (58488, 0, 0)
    assert transponder_id(str(2**32)) == 0


def test_full_payload_is_gzip_then_base64() -> None:
    payload = full_payload(_race_day_session(), EVENT)
    status = encode_full(payload)
    raw = base64.b64decode(status, validate=True)
    assert raw[:2] == b"\x1f\x8b"  # gzip
    assert orjson.loads(gzip.decompress(raw)) == payload
    assert decode_full(status) == decode_status(status) == payload
    assert encode_full(payload) == status  # deterministic: same bytes each time
    assert len(status) < len(orjson.dumps(payload)) / 3


def test_stream_sends_full_every_five_seconds_and_changes_between() -> None:
    engine = RaceEngine()
    builder = SnapshotBuilder(engine)
    stream = CompactStream(EVENT)
    client: dict[str, dict] = {}
    sent: list[tuple[int, bool]] = []  # (time, full and not a reset)
    updated: list[int] = []
    now = 0
    items = [item for name in RACE_DAY for item in read_records(capture(name).read_bytes())]
    for item in items:
        engine.apply(item.record)
        now = max(now, item.received_at_ms or 0)  # capture blocks are not all in time order
        status = stream.next(builder.build(), now)
        if status is None:
            continue
        payload = decode_status(status.text)
        assert payload == status.payload and status.full == status.text[:1].isalpha()
        sent.append((now, status.full and not payload["r"]))
        if status.full:
            assert payload["cpu"] == [] and payload["eeu"] == []
            client = {cp["n"]: cp for cp in payload["cps"]}
        else:
            assert payload["cps"] == [] and payload["ee"] == []
            assert all(client.get(cp["n"]) != cp for cp in payload["cpu"])  # changed ones only
            updated.append(len(payload["cpu"]))
            client.update({cp["n"]: cp for cp in payload["cpu"]})
    fulls = [now for now, periodic_full in sent if periodic_full]
    assert len(fulls) > 10 and len(sent) > 5 * len(fulls)
    assert all(b - a >= 5_000 for a, b in itertools.pairwise(fulls))
    assert sorted(updated)[len(updated) // 2] <= 5  # most updates carry a car or a few
    # A client that applies what it got holds what a fresh full payload says.
    final = car_positions(build_snapshot(engine)["sessions"][0], 42)
    assert client == {cp["n"]: cp for cp in final.values()}


def test_stream_resets_on_a_new_session() -> None:
    engine = RaceEngine()
    builder = SnapshotBuilder(engine)
    stream = CompactStream(EVENT)
    engine.apply_all(parse_lines(['$B,1,"Race"', '$A,"1","1",1,"A","","",1']))
    first = stream.next(builder.build(), 0)
    assert first is not None and first.full and first.payload["r"] is False
    engine.apply_all(parse_lines(['$A,"2","2",2,"B","","",1']))
    second = stream.next(builder.build(), 1_000)
    assert second is not None and not second.full
    assert [e["no"] for e in second.payload["eeu"]] == ["2"]
    assert stream.next(builder.build(), 2_000) is None  # nothing changed, no full due
    engine.apply_all(parse_lines(['$B,2,"Race 2"', '$A,"9","9",9,"C","","",1']))
    third = stream.next(builder.build(), 2_500)
    assert third is not None and third.full and third.payload["r"] is True
    assert [cp["n"] for cp in third.payload["cps"]] == ["9"]
    assert third.payload["cps"][0]["sid"] == "2"


def test_no_session_yet_is_an_empty_full_payload() -> None:
    stream = CompactStream(EVENT)
    status = stream.next({"current": None, "sessions": []}, 0)
    assert status is not None and status.full
    assert status.payload["es"] is None and status.payload["cps"] == []
    assert stream.next({"current": None, "sessions": []}, 1_000) is None
