"""The record registry: each type of record an event's log holds, and how it is decoded. Pure.

A log record is ``(type, data)``: ``data`` is the text the relay or the server stored (an
RMonitor line, a P3 frame as hex, a race-control revision as JSON …). ``decode(type, data)``
turns it into what the scorer (``timing.scorer.Scorer.apply``) takes, the same way for the
server's event processor (``events.processors``) and for ``trackside replay``, so a replay of
the same records gives the same standings.

=================  =====================================  ==================================
type               data                                   the scorer gets
=================  =====================================  ==================================
``rmonitor``       one feed line                          ``RMonitorRecord``\\ s (``FeedError``
                                                          too: the engine counts it)
``p3``             one decoder frame, wire bytes as hex   a ``P3Passing``; status and other
                                                          frames are counted, not scored
``controllog``     a race-control revision (JSON)         a ``ControlLogRecord``
``judge``          a judge's time, a manual start or stop  a ``JudgeRecord`` (``timing.manual``)
                   (JSON)
``iracing``        an imported iRacing session (JSON)      the ``RMonitorRecord``\\ s it stands for
``checkpoint``     a GPS checkpoint crossing (JSON)        a ``CheckpointCrossing``: scored into
                                                          a checkpoint session
                                                          (``timing.checkpoints``)
``classification`` an official's decision (JSON)          nothing: officials' decisions are
                                                          about a result, not the standings
                                                          (the server's classification book)
=================  =====================================  ==================================

Every type but ``rmonitor`` and ``p3`` is ``server_only``: the server writes it after its own
checks, and the relay API refuses it. A new kind of record adds a row: a decoder in
``feeds/`` whose records the scorer knows. A type the registry does not know is not scored
(the processor reports it; replay counts it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from trackside.feeds.checkpoint_records import CheckpointCrossing
from trackside.feeds.controllog_records import ControlLogRecord
from trackside.feeds.judge_records import JudgeRecord
from trackside.feeds.line_reader import read_line
from trackside.feeds.p3_records import P3Error, P3Passing, P3Status
from trackside.feeds.records import FeedError, RMonitorRecord
from trackside.feeds.rmonitor import RMONITOR, parse_lines

# The decoders of the other types are imported when a record of theirs first comes: a replay
# of an RMonitor file starts without them.
P3 = "p3"
CONTROLLOG = "controllog"  # feeds.controllog_codec.RECORD_TYPE
CLASSIFICATION = "classification"  # feeds.classification_records.RECORD_TYPE
JUDGE = "judge"  # feeds.judge_records.RECORD_TYPE
CHECKPOINT = "checkpoint"  # feeds.checkpoint_records.TYPE: a GPS checkpoint crossing
IRACING = "iracing"  # feeds.iracing: an imported iRacing session's results and laps

ScorerInput = RMonitorRecord | P3Passing | ControlLogRecord | JudgeRecord | CheckpointCrossing


class Decoded(NamedTuple):
    """What one stored record gives: records for the scorer, in order, and what was wrong.

    A named tuple, not a frozen dataclass: one is made per stored record, and a frozen
    dataclass took longer to build than the scorer took to apply an RMonitor line.
    """

    records: Sequence[ScorerInput] = ()
    bad: tuple[str, ...] = ()  # why (a part of) it could not be read, for diagnostics
    kind: str | None = None  # what sort of record it was, where a type has several (P3 frames)


NOTHING = Decoded()


@dataclass(frozen=True, slots=True)
class RecordType:
    name: str
    decode: Callable[[str], Decoded]
    scored: bool = True  # False: decoded elsewhere, never an input of the scorer
    # Written only by the server, after its own checks (an official's decision, a judge's
    # time, a GPS crossing, an import): a relay may not send one.
    server_only: bool = False


# Lines a feed sends again and again: the timing system re-sends its whole board (every
# car's $A, $C, $G, $H) at each reset, ~270 lines at once, most of them as they were.
RECENT_LINES = 4_096


@lru_cache(maxsize=RECENT_LINES)
def _rmonitor(data: str) -> Decoded:
    """One stored line's records. Kept for the lines seen last: a line always reads the same,
    and records are never changed once built (``feeds.records``), so a re-sent line costs a
    look-up instead of a parse."""
    record = read_line(data)  # nearly every stored line: one plain record
    if record is not None:
        if type(record) is FeedError:
            return Decoded((record,), (record.reason,))
        return Decoded((record,))
    records = tuple(parse_lines((data,)))
    bad = tuple(r.reason for r in records if type(r) is FeedError)  # type: ignore[union-attr]
    return Decoded(records, bad)


_STATUS = Decoded(kind="status")
_OTHER = Decoded(kind="other")


def _p3(data: str) -> Decoded:
    """A decoder frame: passings are crossings; status and other frames are only counted."""
    from trackside.feeds.p3 import decode_hex_frame  # after the first time, a dict look-up

    record = decode_hex_frame(data)
    if isinstance(record, P3Passing):
        return Decoded((record,), kind="passing")
    if isinstance(record, P3Error):
        return Decoded(bad=(f"P3 frame: {record.reason}",), kind="bad")
    return _STATUS if isinstance(record, P3Status) else _OTHER


def _controllog(data: str) -> Decoded:
    from trackside.feeds import controllog_codec

    try:
        return Decoded((controllog_codec.decode(data),))
    except ValueError as exc:
        return Decoded(bad=(f"control log record: {exc}",))


def _judge(data: str) -> Decoded:
    """A judge's time, or a manual competition's start, stop or correction."""
    from trackside.feeds import judge_records

    try:
        return Decoded((judge_records.decode(data),))
    except ValueError as exc:
        return Decoded(bad=(f"judge record: {exc}",))


def _iracing(data: str) -> Decoded:
    """An imported iRacing session: the feed records it stands for."""
    from trackside.feeds import iracing

    try:
        return Decoded(tuple(iracing.decode(data)))
    except ValueError as exc:
        return Decoded(bad=(str(exc),))


def _checkpoint(data: str) -> Decoded:
    """A GPS checkpoint crossing: the scorer times a checkpoint session from them."""
    from trackside.feeds import checkpoint_records

    try:
        return Decoded((checkpoint_records.decode(data),))
    except ValueError as exc:
        return Decoded(bad=(str(exc),))


def _classification(data: str) -> Decoded:
    """Checked only; the classification book reads it (it needs the record's source too)."""
    from trackside.feeds import classification_records

    try:
        classification_records.decode(data)
    except ValueError as exc:
        return Decoded(bad=(f"classification record: {exc}",))
    return NOTHING


TYPES: dict[str, RecordType] = {
    RMONITOR: RecordType(RMONITOR, _rmonitor),
    P3: RecordType(P3, _p3),
    CONTROLLOG: RecordType(CONTROLLOG, _controllog, server_only=True),
    JUDGE: RecordType(JUDGE, _judge, server_only=True),
    IRACING: RecordType(IRACING, _iracing, server_only=True),
    CHECKPOINT: RecordType(CHECKPOINT, _checkpoint, server_only=True),
    CLASSIFICATION: RecordType(CLASSIFICATION, _classification, scored=False, server_only=True),
}


def record_type(name: str) -> RecordType | None:
    """The registered type of that name, or None when nothing reads it."""
    return TYPES.get(name)


def decode(name: str, data: str) -> Decoded:
    """A stored record of type ``name`` as the scorer takes it; an unknown type is bad."""
    kind = TYPES.get(name)
    if kind is None:
        return Decoded(bad=(f"record type {name!r} is not scored",))
    return kind.decode(data)
