"""Replay recorded feeds through the same decoders and scorer the server runs.

What a file holds is recognised by its content:

- an event's log export (``GET /events/{eventId}/log?format=jsonl``): one JSON object per line,
  ``{"position", "source", "seq", "receivedAt", "type", "data"}``, every record the server
  stored, in log order;
- a raw P3 decoder capture: one frame per line, the wire bytes as hex (``8e…8f``), as the
  decoder sent them and the relay forwards them (``../shared/data/p3/amb.out``);
- else an RMonitor capture in the relay capture format (``##time`` blocks; a block headed
  ``##time|type`` holds records of that type, one per line, e.g. ``|p3`` frames) or a raw
  RMonitor stream.

Every record is decoded by its type with ``feeds.registry``, as the server's event processor
decodes it, and applied to one ``timing.scorer.Scorer`` with the event's loops (``--loops``),
so P3 passings and race-control records count as on the server. Control-log CSVs are read
after the files, each as one upload: its new and changed rows become revisions and the rows it
no longer has removals (``feeds.controllog.changes``), stored and decoded like the server's.

RMonitor files are read block by block as they are applied (``feeds.capture.feed_file``): a
whole season of captures replays in the memory of one block and one scorer.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from trackside.feeds import registry
from trackside.feeds.capture import feed_file, read_file
from trackside.feeds.records import CaptureBlock, Heartbeat, Received
from trackside.timing.loops import Loop, LoopKind, LoopLayout
from trackside.timing.scorer import Scorer

ProgressHook = Callable[[int], None]

FEED, P3_CAPTURE, LOG_EXPORT = "feed", "p3", "log"
_P3_FRAME = re.compile(rb"8e[0-9a-f]+8f", re.IGNORECASE)
HEAD_BYTES = 4096


def kind_of(path: Path) -> str:
    """What a file holds, from its first bytes: a log export, a raw P3 capture or a feed."""
    with Path(path).open("rb") as file:
        head = file.read(HEAD_BYTES)
    head = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if head.startswith(b"{"):
        return LOG_EXPORT
    first = head.split(b"\n", 1)[0].strip()
    if _P3_FRAME.fullmatch(first):
        return P3_CAPTURE
    return FEED


@dataclass(slots=True)
class ReplayFile:
    path: Path
    size: int  # bytes, for the progress bar
    kind: str = FEED

    def records(self, on_read: ProgressHook | None = None) -> Iterator[Received]:
        """The file's records with their receive times (None where the file has none), as
        stored records decode (``Replay.records``, without a tally)."""
        return Replay().records(self, on_read)


def load(paths: Iterable[Path]) -> list[ReplayFile]:
    """The files to replay, in order, each recognised by its first bytes; nothing else read."""
    return [ReplayFile(Path(path), Path(path).stat().st_size, kind_of(path)) for path in paths]


def read_loops(path: Path) -> LoopLayout:
    """Loops as ``GET``/``PUT /events/{eventId}/loops`` give them: ``{"loops": [{"name", "kind",
    "decoderId" (a number or hex text like ``"0x41813"``), "loopId"}]}`` (or the bare list).
    ValueError names what is wrong."""
    data = orjson.loads(Path(path).read_bytes())
    items = data.get("loops") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise ValueError('expected {"loops": [...]}')
    loops = []
    for index, item in enumerate(items):
        try:
            loop_id = item.get("loopId", item.get("loop_id"))
            loops.append(
                Loop(
                    str(item["name"]),
                    LoopKind(item["kind"]),
                    _decoder_id(item.get("decoderId", item.get("decoder_id"))),
                    None if loop_id is None else int(loop_id),
                )
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"loops.{index}: {type(exc).__name__} {exc}") from None
    return LoopLayout(loops)


def _decoder_id(value: Any) -> int:
    if isinstance(value, str):
        text = value.strip().lower()
        return int(text, 16) if text.startswith("0x") else int(text)
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("decoderId is not a number")
    return value


@dataclass(slots=True)
class Replay:
    """One scorer and what was read into it: records by type, the ones that could not be."""

    scorer: Scorer = field(default_factory=Scorer)
    by_type: Counter[str] = field(default_factory=Counter)
    bad: int = 0
    bad_samples: list[str] = field(default_factory=list)
    _control_log: list[Any] = field(default_factory=list)  # revisions uploaded so far

    def decode(self, kind: str, data: str) -> Sequence[registry.ScorerInput]:
        """A stored record's scorer input (``feeds.registry``), counted."""
        self.by_type[kind] += 1
        decoded = registry.decode(kind, data)
        if decoded.bad:
            self.bad += len(decoded.bad)
            if len(self.bad_samples) < 50:
                self.bad_samples.extend(decoded.bad)
        return decoded.records

    def block(self, block: CaptureBlock) -> None:
        """A typed capture block: every line a record of the block's type."""
        apply = self.scorer.apply
        for line in block.text.split("\n"):
            for record in self.decode(block.kind, line):
                apply(record)

    def feed(self, replay_file: ReplayFile, on_read: ProgressHook | None = None) -> None:
        """Every record of a file, as fast as it reads."""
        if replay_file.kind == FEED:
            feed_file(
                replay_file.path,
                self.scorer.apply_rmonitor,
                on_read=on_read,
                on_block=self.block,  # type: ignore[arg-type]
            )
            return
        apply = self.scorer.apply
        for item in self.records(replay_file, on_read):
            apply(item.record)

    def records(
        self, replay_file: ReplayFile, on_read: ProgressHook | None = None
    ) -> Iterator[Received]:
        """A file's scorer input in order, each with its receive time (None if not known)."""
        path = replay_file.path
        if replay_file.kind == FEED:
            for received, record in read_file(path, on_read=on_read):
                if type(record) is CaptureBlock:
                    for line in record.text.split("\n"):
                        for decoded in self.decode(record.kind, line):
                            yield Received(received, decoded)
                else:
                    yield Received(received, record)
            return
        for raw in _lines(path, on_read):
            line = raw.strip()
            if not line:
                continue
            if replay_file.kind == P3_CAPTURE:
                kind, data, received = registry.P3, line.decode("ascii", "replace"), None
            else:
                kind, data, received = _log_line(line)
            for decoded in self.decode(kind, data):
                yield Received(received, decoded)

    def control_log(self, path: Path) -> None:
        """A control-log CSV as one upload after what was replayed (default columns and rules,
        as for an event with no control-log source configured)."""
        from trackside.feeds import controllog_codec
        from trackside.feeds.controllog import changes, parse_control_log

        new = changes(self._control_log, parse_control_log(Path(path).read_bytes()))
        self._control_log.extend(new)
        apply = self.scorer.apply
        for revision in new:
            for record in self.decode(
                controllog_codec.RECORD_TYPE, controllog_codec.encode(revision)
            ):
                apply(record)


def _lines(path: Path, on_read: ProgressHook | None) -> Iterator[bytes]:
    with Path(path).open("rb") as file:
        for line in file:
            if on_read is not None:
                on_read(len(line))
            yield line


def _log_line(line: bytes) -> tuple[str, str, int | None]:
    """``(type, data, receivedAt)`` of one line of a log export; a line that is not one is a
    record of no known type, counted as bad."""
    try:
        item = orjson.loads(line)
        kind, data = item["type"], item["data"]
        received = item.get("receivedAt")
        if isinstance(kind, str) and isinstance(data, str):
            return kind, data, received if isinstance(received, int) else None
    except (orjson.JSONDecodeError, KeyError, TypeError):
        pass
    return "(not a log record)", "", None


def paced(
    records: Iterable[Received],
    speed: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[Received]:
    """Yield records at ``speed`` times real time.

    Captures carry receive times; a raw stream has none, so each heartbeat counts as a second.
    """
    started = clock()
    first: int | None = None
    beats = 0
    for item in records:
        if item.received_at_ms is not None:
            if first is None:
                first = item.received_at_ms
            due = (item.received_at_ms - first) / 1000 / speed
        else:
            due = beats / speed
        if isinstance(item.record, Heartbeat):
            beats += 1
        wait = due - (clock() - started)
        if wait > 0:
            sleep(wait)
        yield item


def replay(
    files: list[ReplayFile],
    speed: float | None = None,
    on_progress: ProgressHook | None = None,
    loops: LoopLayout | None = None,
    control_logs: Sequence[Path] = (),
) -> Replay:
    """Apply every record of every file, in order, to one scorer (files continue one feed),
    then each control-log CSV as an upload.

    ``on_progress`` hears the bytes read as they are read.
    """
    run = Replay(Scorer(layout=loops))
    for replay_file in files:
        if speed is None:
            run.feed(replay_file, on_progress)
        else:
            apply = run.scorer.apply
            for item in paced(run.records(replay_file, on_progress), speed):
                apply(item.record)
    for path in control_logs:
        run.control_log(path)
    return run
