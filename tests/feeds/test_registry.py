"""The record registry: each stored record type decodes to what the scorer takes."""

from __future__ import annotations

from tests.conftest import DATA
from trackside.feeds import (
    checkpoint_records,
    classification_records,
    controllog_codec,
    judge_records,
    registry,
)
from trackside.feeds.checkpoint_records import CheckpointCrossing
from trackside.feeds.controllog_records import ControlLogRemoval
from trackside.feeds.p3_records import P3Passing
from trackside.feeds.records import FeedError, Heartbeat


def test_type_names_are_the_codecs() -> None:
    assert registry.CONTROLLOG == controllog_codec.RECORD_TYPE
    assert registry.CLASSIFICATION == classification_records.RECORD_TYPE
    assert registry.JUDGE == judge_records.RECORD_TYPE
    assert registry.CHECKPOINT == checkpoint_records.TYPE
    assert set(registry.TYPES) == {
        "rmonitor",
        "p3",
        "controllog",
        "classification",
        "judge",
        "iracing",
        "checkpoint",
    }
    assert [t.name for t in registry.TYPES.values() if not t.scored] == ["classification"]


def test_rmonitor_lines_give_records_and_bad_ones_a_reason() -> None:
    decoded = registry.decode("rmonitor", '$F,14,"00:12:45","13:34:23","00:09:47","Green "')
    assert [type(r) for r in decoded.records] == [Heartbeat] and decoded.bad == ()
    bad = registry.decode("rmonitor", "$G,x")
    assert [type(r) for r in bad.records] == [FeedError] and len(bad.bad) == 1


def test_p3_frames_are_passings_or_counted() -> None:
    frames = (DATA / "p3" / "amb.out").read_text().split()
    kinds = [registry.decode("p3", frame).kind for frame in frames]
    assert kinds.count("passing") == 84 and kinds.count("status") == 1304
    passing = next(registry.decode("p3", f) for f in frames if len(f) > 62)
    assert isinstance(passing.records[0], P3Passing)
    bad = registry.decode("p3", "8e02zz")
    assert bad.kind == "bad" and bad.records == () and bad.bad[0].startswith("P3 frame: ")


def test_control_log_revisions_round_trip() -> None:
    removal = ControlLogRemoval("id:4", 7, 2)
    assert registry.decode("controllog", controllog_codec.encode(removal)).records == (removal,)
    assert registry.decode("controllog", "{}").bad[0].startswith("control log record: ")


def test_classification_is_checked_not_scored_and_unknown_types_are_bad() -> None:
    assert registry.decode("classification", "[]").bad[0].startswith("classification record")
    assert registry.record_type("telemetry") is None
    assert registry.decode("telemetry", "x").bad == ("record type 'telemetry' is not scored",)


def test_checkpoint_crossings_go_to_the_scorer() -> None:
    decoded = registry.decode("checkpoint", '{"p": 7, "n": "ana", "c": "Hill", "t": 5, "i": 1}')
    assert tuple(decoded.records) == (CheckpointCrossing(7, "ana", "Hill", 5, 1),)
    assert registry.decode("checkpoint", '{"p": 7}').bad
