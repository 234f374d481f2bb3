"""A live message as it travels through the broker: its epoch and version, a newline, the wire
bytes; or the end of an epoch (its processor stopped).

The processor frames each patch once; the fan-out of each server node unframes it once to learn
the epoch and version (to skip what a subscriber already has, or to start it over with a
snapshot when the epoch changed) without parsing the patch::

    b"<epoch> <version>\\n<message JSON>"      a patch of that epoch
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

    @property
    def ended(self) -> bool:
        return self.version == END


def frame(message: Message) -> bytes:
    """A message as it travels through the broker: epoch, version, a newline, the wire bytes."""
    return b"%d %d\n%s" % (message.epoch, message.version, message.data)


def frame_end(epoch: int) -> bytes:
    """The notice that ``epoch``'s processor stopped: its subscribers start over."""
    return b"%d end\n" % epoch


def unframe(data: bytes) -> Envelope:
    head, _, body = data.partition(b"\n")
    epoch, _, version = head.partition(b" ")
    return Envelope(int(epoch), END if version == b"end" else int(version), body)
