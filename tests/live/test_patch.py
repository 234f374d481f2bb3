"""Patches between snapshots: hand-written feeds, the wire messages, and random snapshot pairs."""

from __future__ import annotations

import copy

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.live.feeding import Feed, as_json
from trackside.feeds.rmonitor import parse_lines
from trackside.live.patch import (
    LiveState,
    VersionGap,
    apply_ops,
    apply_patch,
    diff,
    fewest_moves,
    same,
)

HEADER = [
    '$I,"13:00:00.000","26 Apr 25"',
    '$B,5,"Sprint Race"',
    '$E,"TRACKNAME","Test Park"',
    '$C,1,"GT"',
    '$C,2,"TC"',
    '$A,"1","1",1001,"Team One","Ann Able","USA",1',
    '$A,"2","2",1002,"Team Two","Bob Baker","USA",1',
    '$A,"3","3",1003,"Team Three","Cy Cole","USA",2',
    '$G,1,"1",,"00:00:00.000"',
    '$G,2,"2",,"00:00:00.000"',
    '$G,3,"3",,"00:00:00.000"',
    '$F,9999,"00:20:00","13:00:00","00:00:00","Yellow"',
]
START = [
    '$J,"1","00:00:00.000","00:00:30.000"',
    '$G,1,"1",,"00:00:30.000"',
    '$J,"2","00:00:00.000","00:00:31.000"',
    '$G,2,"2",,"00:00:31.000"',
    '$J,"3","00:00:00.000","00:00:33.000"',
    '$G,3,"3",,"00:00:33.000"',
    '$F,9999,"00:19:25","13:00:35","00:00:35","Green "',
]
# Car 2 completes lap 1 first: one overtake.
OVERTAKE = [
    '$J,"2","00:01:29.000","00:02:00.000"',
    '$G,1,"2",1,"00:02:00.000"',
    '$G,2,"1",,"00:00:30.000"',
]


def _feed(lines: list[str]) -> Feed:
    return Feed().run(list(parse_lines(lines)))


def _replayed(feed: Feed) -> dict:
    snapshot = feed.first_snapshot
    for message in feed.patches:
        snapshot = apply_patch(snapshot, orjson.loads(message.data))
    return snapshot


def _ops(feed: Feed, line: str) -> list[dict]:
    message = feed.apply(parse_lines([line]))
    assert message is not None, line
    return orjson.loads(message.data)["ops"]


def test_hand_written_race_replays_to_the_same_snapshot() -> None:
    feed = _feed(HEADER + START + OVERTAKE)
    versions = [message.version for message in feed.patches]
    assert versions == list(range(1, len(versions) + 1))
    assert _replayed(feed) == as_json(feed.live.snapshot)
    (session,) = feed.live.snapshot["sessions"]
    assert [car["registration"] for car in session["cars"]] == ["2", "1", "3"]


def test_a_record_that_changes_nothing_makes_no_version() -> None:
    feed = _feed(HEADER)
    version = feed.live.version
    assert feed.apply(parse_lines(['$E,"TRACKNAME","Test Park"'])) is None
    assert feed.apply(parse_lines(['$C,2,"TC"'])) is None
    assert feed.live.version == version


def test_an_overtake_is_one_move_and_the_changed_fields() -> None:
    feed = _feed(HEADER + START + OVERTAKE[:1])
    ops = _ops(feed, OVERTAKE[1])
    # The session's list of biggest gainers may change with an overtake; nothing else may.
    session_sets = [op["set"] for op in ops if op["op"] == "set"]
    assert all(set(changed) == {"most_positions_gained"} for changed in session_sets)
    assert [op["op"] for op in ops if op["op"] != "set"] == ["cars", "move"]
    (move,) = [op for op in ops if op["op"] == "move"]
    assert move["moves"] == [["2", 0]]
    changed = next(op for op in ops if op["op"] == "cars")["set"]
    assert changed["2"]["position"] == 1 and changed["1"]["position"] == 2
    assert "name" not in changed["2"]  # unchanged fields stay home


def test_a_flag_change_sets_the_flag_and_closes_the_period() -> None:
    feed = _feed(HEADER + START[:-1])
    ops = _ops(feed, START[-1])
    (set_op,) = [op for op in ops if op["op"] == "set"]
    assert set_op["set"]["flag"] == "green"
    (flags,) = [op for op in ops if op["op"] == "flags"]
    assert flags["from"] == 0
    assert [p["flag"] for p in flags["periods"]] == ["yellow", "green"]
    assert flags["periods"][0]["end_ms"] == 35_000


def test_a_new_competitor_is_put_whole() -> None:
    feed = _feed(HEADER)
    ops = _ops(feed, '$A,"4","4X",1004,"Team Four","Di Dunn","USA",2')
    assert [op["op"] for op in ops] == ["put"]
    (car,) = ops[0]["cars"]
    assert (car["registration"], car["number"], car["class"]) == ("4", "4X", "TC")


def test_a_reset_and_refresh_replays_to_the_same_snapshot() -> None:
    refresh = ['$I,"13:03:00.000","26 Apr 25"', *HEADER[1:11]]
    feed = _feed(HEADER + START + OVERTAKE + refresh + ['$G,1,"2",1,"00:02:00.000"'])
    kinds = {op["op"] for m in feed.patches for op in orjson.loads(m.data)["ops"]}
    assert {"remove", "put"} <= kinds  # the wiped board went away and came back
    assert _replayed(feed) == as_json(feed.live.snapshot)


def test_a_new_run_appends_a_session() -> None:
    feed = _feed(HEADER + START)
    ops = _ops(feed, '$B,6,"Race Two"')
    assert {"op": "top", "set": {"current": 1}} in ops
    (added,) = [op for op in ops if op["op"] == "session"]
    assert added["s"] == 1 and added["value"]["run"] == 6


def test_patch_must_follow_the_snapshot_version() -> None:
    feed = _feed(HEADER + START)
    first, second = (orjson.loads(m.data) for m in feed.patches[:2])
    with pytest.raises(VersionGap):
        apply_patch(feed.first_snapshot, second)
    after = apply_patch(feed.first_snapshot, first)
    with pytest.raises(VersionGap):
        apply_patch(after, first)


def test_messages_are_serialized_once() -> None:
    feed = _feed(HEADER)
    live = feed.live
    message = live.snapshot_message()
    assert live.snapshot_message() is message  # built once per version, whoever asks
    assert message.text.encode() == message.data
    body = orjson.loads(message.data)
    assert body["type"] == "snapshot" and body["version"] == live.version
    assert body["data"] == as_json(live.snapshot)
    patch = feed.apply(parse_lines(START[:2]))
    assert patch is not None and patch.kind == "patch"
    assert live.snapshot_message() is not message


def test_since_catches_up_or_asks_for_a_snapshot() -> None:
    live = LiveState({"current": None, "sessions": []}, history=3)
    for n in range(1, 6):
        live.update({"current": n, "sessions": []})
    assert live.version == 5
    assert [m.version for m in live.since(3) or []] == [4, 5]
    assert [m.version for m in live.since(2) or []] == [3, 4, 5]
    assert live.since(1) is None  # patch 2 is gone: a fresh snapshot is needed
    assert live.since(5) == []
    assert live.since(6) is None


def test_same_is_json_equality() -> None:
    assert same({"a": [1, None]}, {"a": [1, None]})
    assert not same(1, True)
    assert not same(1, 1.0)
    assert not same([0], [False])
    assert not same({"a": 1}, {"a": 1, "b": 2})


# --- properties --------------------------------------------------------------------------------

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.floats(-2, 2, allow_nan=False, allow_infinity=False)
    | st.text(max_size=3)
)
_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=3), max_leaves=5)
_regs = st.sampled_from(["1", "2", "3", "4", "5", "6", "7", "10"])
_car_keys = ["position", "laps", "last_lap_ms", "name", "stale", "gap_ms"]
_car = st.fixed_dictionaries({"registration": _regs}, optional=dict.fromkeys(_car_keys, _values))
_cars = st.lists(_car, max_size=8, unique_by=lambda car: car["registration"])
_flag_period = st.fixed_dictionaries(
    {
        "flag": st.sampled_from(["green", "yellow", "finish"]),
        "start_ms": st.integers(0, 3),
        "end_ms": st.none() | st.integers(0, 3),
    }
)
_session_keys = ["run", "name", "flag", "laps_to_go", "classes"]
_session = st.fixed_dictionaries(
    {
        # Mostly a proper car list; sometimes duplicates or a bare value (diffed as a value).
        "cars": st.one_of(_cars, _cars, _cars, st.lists(_car, max_size=3), _scalars),
        "flag_periods": st.one_of(st.lists(_flag_period, max_size=4), _scalars),
    },
    optional={
        **dict.fromkeys(_session_keys, _values),
        "classes": st.dictionaries(st.sampled_from(["1", "2"]), st.text(max_size=2)),
    },
)
_snapshot = st.fixed_dictionaries(
    {"sessions": st.lists(_session | _scalars, max_size=3)},
    optional={"current": st.none() | st.integers(0, 3), "extra": _values},
)


@settings(max_examples=400, deadline=None)
@given(_snapshot, _snapshot)
def test_diff_then_apply_gives_the_new_snapshot(old: dict, new: dict) -> None:
    kept_old, kept_new = copy.deepcopy(old), copy.deepcopy(new)
    ops = diff(old, new)
    assert same(apply_ops(old, ops), new)
    # Through the wire, from the client's copy of the old snapshot.
    wire_old = as_json({"version": 7, **old})
    message = orjson.loads(orjson.dumps({"type": "patch", "version": 8, "ops": ops}))
    assert apply_patch(wire_old, message) == as_json({"version": 8, **new})
    assert same(old, kept_old) and same(new, kept_new)  # inputs untouched


@settings(max_examples=200, deadline=None)
@given(_snapshot)
def test_no_change_no_ops(snapshot: dict) -> None:
    assert diff(snapshot, copy.deepcopy(snapshot)) == []


@settings(max_examples=100, deadline=None)
@given(st.lists(_snapshot, min_size=1, max_size=6))
def test_live_state_chain_replays(bodies: list[dict]) -> None:
    live = LiveState(bodies[0])
    client = orjson.loads(live.snapshot_message().data)["data"]
    for body in bodies[1:]:
        message = live.update(body)
        if message is not None:
            client = apply_patch(client, orjson.loads(message.data))
    assert client == as_json(live.snapshot)
    assert client["version"] == live.version


def _longest_increasing(values: list[int]) -> int:
    best = [1] * len(values)
    for i in range(len(values)):
        for j in range(i):
            if values[j] < values[i]:
                best[i] = max(best[i], best[j] + 1)
    return max(best, default=0)


@settings(max_examples=300, deadline=None)
@given(
    st.permutations([str(n) for n in range(9)]).flatmap(
        lambda p: st.tuples(st.just(p), st.permutations(p))
    )
)
def test_fewest_moves_reorders_with_the_fewest_moves(orders: tuple[list[str], list[str]]) -> None:
    order, target = list(orders[0]), list(orders[1])
    moves = fewest_moves(order, target)
    where = {reg: i for i, reg in enumerate(order)}
    assert len(moves) == len(target) - _longest_increasing([where[r] for r in target])
    cars = [{"registration": reg} for reg in order]
    session = {"cars": cars, "flag_periods": []}
    moved = apply_ops({"sessions": [session]}, [{"op": "move", "s": 0, "moves": moves}])
    assert [car["registration"] for car in moved["sessions"][0]["cars"]] == target
