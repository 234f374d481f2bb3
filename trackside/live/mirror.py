"""The live state of an event as a node that does not score it sees it: the leader's snapshot,
then the leader's patches applied in order.

In a cluster one node holds an event's processor lease and publishes its snapshot and patches;
every other node keeps a mirror, so its viewers get exactly the leader's epoch, versions and
patch bytes, and its snapshots are the leader's state at that version. A mirror that misses a
patch (a gap in versions, another epoch it has no snapshot of) goes ``stale`` until it loads a
snapshot again (the leader's latest, from the broker, or a snapshot message it publishes).
"""

from __future__ import annotations

from typing import Any

import orjson

from trackside.live.envelope import Envelope
from trackside.live.patch import Message, apply_ops
from trackside.live.snapshot import Snapshot

EMPTY: Snapshot = {"current": None, "sessions": []}


class LiveMirror:
    """Snapshot + patches of one epoch, as received; the interface viewers read of a
    ``LiveState``: ``epoch``, ``version``, ``snapshot``, ``snapshot_message()``."""

    __slots__ = ("_body", "_message", "epoch", "stale", "version")

    def __init__(self) -> None:
        self.epoch = 0
        self.version = 0
        self._body: Snapshot = EMPTY
        self._message: Message | None = None
        self.stale = True  # nothing loaded yet

    @property
    def snapshot(self) -> Snapshot:
        return {"version": self.version, **self._body}

    def snapshot_message(self) -> Message:
        message = self._message
        if message is None or message.version != self.version or message.epoch != self.epoch:
            message = self._message = Message.encode(
                {
                    "type": "snapshot",
                    "epoch": self.epoch,
                    "version": self.version,
                    "data": self.snapshot,
                }
            )
        return message

    def load(self, snapshot_message: bytes) -> None:
        """Start over from a snapshot message (``{"type": "snapshot", "epoch", "version",
        "data"}``), unless it is older than what this mirror has of the same epoch."""
        body: dict[str, Any] = orjson.loads(snapshot_message)
        epoch, version = int(body.get("epoch", 0)), int(body["version"])
        if not self.stale and epoch == self.epoch and version <= self.version:
            return
        data = body["data"]
        self._body = {k: v for k, v in data.items() if k != "version"}
        self.epoch, self.version, self.stale = epoch, version, False
        self._message = None

    def take(self, envelope: Envelope) -> bool:
        """Apply what the broker delivered; False when the mirror could not follow it (it is
        stale now and needs a snapshot)."""
        if envelope.ended:
            return not self.stale
        if envelope.snapshot:
            self.load(envelope.body)
            return True
        if not self.stale and envelope.epoch == self.epoch:
            if envelope.version <= self.version:
                return True  # already in the snapshot loaded
            if envelope.version == self.version + 1:
                ops = orjson.loads(envelope.body)["ops"]
                self._body = apply_ops(self._body, ops)
                self.version = envelope.version
                return True
        if not self.stale and envelope.epoch < self.epoch:
            return True  # a message of an older run, late: nothing to do
        self.stale = True
        return False
