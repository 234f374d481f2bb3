"""A live message as it travels through the broker: its version, a newline, the wire bytes.

The processor frames each patch once; every subscriber unframes it to learn the version
(to resume or to skip what it already has) without parsing the patch.
"""

from __future__ import annotations

from trackside.live.patch import Message


def frame(message: Message) -> bytes:
    """A message as it travels through the broker: its version, a newline, the wire bytes."""
    return b"%d\n%s" % (message.version, message.data)


def unframe(data: bytes) -> tuple[int, bytes]:
    head, _, body = data.partition(b"\n")
    return int(head), body
