"""WebSocket text frames for many sockets at once: a plain frame built once for all of them, and
permessage-deflate compressed once for every socket whose compressor may share it.

With context takeover (RFC 7692 7.2.3.2) a socket's compressor refers back to what it sent
before, so a broadcast is normally compressed again for every socket: for a live patch to a few
hundred viewers that is most of the fan-out's work. But a sender may always compress without
referring back (the peer's window just goes unused) and from there on refer only to what it sent
since. So sockets that get the same messages, in the same order, from some message on can share
one compressor started fresh at that message: a ``DeflateGroup``, which compresses each message
once. A socket's ``DeflateSeat`` says where it is: in a group, and how many of the group's
messages it has had; or on its own compressor. A message only it gets (its snapshot), one of the
group's it missed, or one its WebSocket library sent meanwhile (which compresses with a fresh
``Standby`` while the socket is in a group) takes it out of the group. Sockets on their own join
the next group the channel starts (``DeflateGroups``): at most every ``REGROUP_S``, and only
when some socket was on its own for a broadcast, since that one message of each socket's is
compressed without history.
"""

from __future__ import annotations

import struct
import time
import zlib
from collections.abc import Callable
from typing import Any, Protocol

REGROUP_S = 10.0
SYNC_FLUSH_TAIL = b"\x00\x00\xff\xff"  # RFC 7692 7.2.1: removed from every message

# A compressor's settings: window bits (the negotiated server_max_window_bits) and zlib's own.
Settings = tuple[int, tuple[tuple[str, Any], ...]]


def text_frame(payload: bytes, compressed: bool = False) -> bytes:
    """A final, unmasked text frame (RFC 6455 section 5.2); ``compressed``: its payload is
    permessage-deflate's (RFC 7692: RSV1 set)."""
    first = 0xC1 if compressed else 0x81
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", first, size)
    elif size < 1 << 16:
        header = struct.pack("!BBH", first, 126, size)
    else:
        header = struct.pack("!BBQ", first, 127, size)
    return header + payload


def compressor(settings: Settings) -> zlib._Compress:
    """A fresh compressor: valid for any socket with these settings, whatever it had before."""
    bits, options = settings
    return zlib.compressobj(wbits=-bits, **dict(options))


def deflate(encoder: zlib._Compress, payload: bytes) -> bytes:
    """One message's permessage-deflate payload from ``encoder`` (its context carried on)."""
    data = encoder.compress(payload) + encoder.flush(zlib.Z_SYNC_FLUSH)
    return data[:-4] if data.endswith(SYNC_FLUSH_TAIL) else data


class DeflateGroup:
    """One compressor for the sockets that had the same messages since it started. ``count``:
    the messages it compressed; a member that had them all may take the next."""

    __slots__ = ("_encoder", "_frame", "_last", "count")

    def __init__(self, settings: Settings) -> None:
        self._encoder = compressor(settings)
        self._last: object = None  # the message compressed last (kept: compared by identity)
        self._frame = b""
        self.count = 0

    def frame(self, message: object, payload: bytes, had: int | None) -> bytes | None:
        """``message``'s compressed text frame for a socket that had the group's first ``had``
        messages (None: not a member, which may join only at the group's first message); None
        when that socket cannot take it from this group."""
        if message is self._last:
            if had == self.count - 1 or (had is None and self.count == 1):
                return self._frame
            return None
        if had == self.count or (had is None and self.count == 0):
            self._frame = text_frame(deflate(self._encoder, payload), True)
            self._last = message
            self.count += 1
            return self._frame
        return None


class DeflateGroups:
    """A channel's groups, one per compressor settings, started again (``next_round``) when
    sockets strayed from them and the groups have run ``REGROUP_S``."""

    def __init__(self, regroup_s: float = REGROUP_S, clock: Callable[[], float] = time.monotonic):
        self._regroup_s = regroup_s
        self._clock = clock
        self._groups: dict[Settings, DeflateGroup] = {}
        self._started = clock()
        self.strays = 0  # sockets that compressed a broadcast on their own since the start

    def next_round(self) -> DeflateGroups:
        """Call before each broadcast; the groups to send it with."""
        if self.strays and self._clock() - self._started >= self._regroup_s:
            self.restart()
        return self

    @property
    def compressed(self) -> int:
        """Messages compressed by the current groups (each once, for all their sockets)."""
        return sum(group.count for group in self._groups.values())

    def restart(self) -> None:
        """New groups from the next broadcast on (everyone just had a message of their own,
        e.g. a new epoch's snapshot)."""
        self._groups = {}
        self._started = self._clock()
        self.strays = 0

    def group(self, settings: Settings) -> DeflateGroup:
        group = self._groups.get(settings)
        if group is None:
            group = self._groups[settings] = DeflateGroup(settings)
        return group


class Compressing(Protocol):
    """A socket's own permessage-deflate state (``websockets``' ``PerMessageDeflate``): the
    compressor its library sends with, a ``zlib`` one or, while the socket is in a group, a
    ``Standby``."""

    encoder: Any


class Standby:
    """A socket's own compressor while it is in a group: fresh (valid whatever the group sent),
    made on first use; used means the library sent the peer a message the group did not."""

    __slots__ = ("_settings", "encoder")

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self.encoder: zlib._Compress | None = None

    def compress(self, data: bytes) -> bytes:
        return self._used().compress(data)

    def flush(self, mode: int = zlib.Z_FINISH) -> bytes:
        return self._used().flush(mode)

    def _used(self) -> zlib._Compress:
        if self.encoder is None:
            self.encoder = compressor(self._settings)
        return self.encoder


class DeflateSeat:
    """Where one socket's compression stands: in a group (having had its first ``had``
    messages), or on its own compressor (``own.encoder``, the one its WebSocket library sends
    with too, so what either sends stays decodable)."""

    __slots__ = ("_group", "_had", "_standby", "settings")

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._group: DeflateGroup | None = None
        self._had = 0
        self._standby: Standby | None = None

    def frame(
        self, message: object, payload: bytes, groups: DeflateGroups | None, own: Compressing
    ) -> bytes:
        """The compressed text frame of ``message`` for this socket. ``groups``: the channel's,
        when it broadcasts ``message`` (None: only this socket gets it)."""
        if self._group is not None and (own.encoder is not self._standby or own.encoder.encoder):
            self._leave(own)  # the library sent the peer something meanwhile
        if groups is not None:
            group = groups.group(self.settings)
            had = self._had if self._group is group else None
            frame = group.frame(message, payload, had)
            if frame is not None:
                if self._group is not group:
                    self._group = group
                    self._standby = own.encoder = Standby(self.settings)
                self._had = group.count
                return frame
            groups.strays += 1
        if self._group is not None:
            self._leave(own)
        return text_frame(deflate(own.encoder, payload), True)

    def _leave(self, own: Compressing) -> None:
        """Back on the socket's own compressor: the standby's, or a fresh one."""
        standby = self._standby
        self._group = self._standby = None
        if own.encoder is standby:
            assert standby is not None
            own.encoder = standby.encoder or compressor(self.settings)
