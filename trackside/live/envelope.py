"""A live message as it travels through the broker: its epoch and version, a newline, the wire
bytes; a whole snapshot (a new epoch's start, or after the broker was unreachable); or the end
of an epoch (its processor stopped).

The processor frames each patch once; the fan-out of each server node unframes it once to learn
the epoch and version (to skip what a subscriber already has, or to start it over with a
snapshot when the epoch changed) without parsing the patch::

    b"<epoch> <version>\\n<message JSON>"      a patch of that epoch
    b"<epoch> <version> s\\n<snapshot JSON>"   the whole state at that version: start over
    b"<epoch> end\\n"                          that epoch's processor stopped
"""

from __future__ import annotations

from dataclasses import dataclass

from trackside.live.patch import Message

END = -1  # the version an epoch's end carries


@dataclass(frozen=True, slots=True)
class Envelope:
    epoch: int
    version: int  # END: the epoch ended
    body: bytes
    snapshot: bool = False  # the body is a snapshot message, not a patch

    @property
    def ended(self) -> bool:
        return self.version == END


def frame(message: Message) -> bytes:
    """A message as it travels through the broker: epoch, version, a newline, the wire bytes."""
    return b"%d %d\n%s" % (message.epoch, message.version, message.data)


def frame_snapshot(message: Message) -> bytes:
    """A snapshot message as it travels through the broker: whoever follows starts over."""
    return b"%d %d s\n%s" % (message.epoch, message.version, message.data)


def frame_end(epoch: int) -> bytes:
    """The notice that ``epoch``'s processor stopped: its subscribers start over."""
    return b"%d end\n" % epoch


def unframe(data: bytes) -> Envelope:
    head, _, body = data.partition(b"\n")
    epoch, _, version = head.partition(b" ")
    if version == b"end":
        return Envelope(int(epoch), END, body)
    version, _, kind = version.partition(b" ")
    return Envelope(int(epoch), int(version), body, kind == b"s")
