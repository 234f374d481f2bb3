"""Shared permessage-deflate (``live.wsframes``): whatever mix of broadcasts, messages for one
socket, missed broadcasts, sends through the WebSocket library and regroupings, every socket's
peer (one decompressor per connection, context kept, as a browser's) decodes exactly what was
sent; and a broadcast to sockets that had the same messages is compressed once."""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from trackside.live.wsframes import (
    DeflateGroups,
    DeflateSeat,
    Settings,
    compressor,
    deflate,
    text_frame,
)

SETTINGS: Settings = (12, (("memLevel", 5),))  # uvicorn's and websockets' defaults
CAPTURE = Path(__file__).parents[2] / ".." / "shared" / "data" / "rmonitor"


@dataclass
class Own:
    """The socket's own compressor, as ``websockets``' ``PerMessageDeflate`` keeps it."""

    encoder: Any = field(default_factory=lambda: compressor(SETTINGS))


@dataclass
class Socket:
    seat: DeflateSeat = field(default_factory=lambda: DeflateSeat(SETTINGS))
    own: Own = field(default_factory=Own)
    peer: zlib._Decompress = field(default_factory=lambda: zlib.decompressobj(wbits=-12))
    received: list[bytes] = field(default_factory=list)

    def take(self, frame: bytes) -> None:
        """What the browser does with a compressed text frame (RFC 7692 7.2.2)."""
        assert frame[0] == 0xC1
        size = frame[1]
        start = 2
        if size == 126:
            size, start = int.from_bytes(frame[2:4]), 4
        elif size == 127:
            size, start = int.from_bytes(frame[2:10]), 10
        payload = frame[start : start + size]
        assert len(payload) == size
        self.received.append(self.peer.decompress(payload + b"\x00\x00\xff\xff"))

    def through_library(self, payload: bytes) -> None:
        """A send the library compresses with its own compressor (a slow socket's queue)."""
        self.take(text_frame(deflate(self.own.encoder, payload), True))


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def payloads() -> list[bytes]:
    """Real feed lines as message bodies (they repeat like live patches do)."""
    lines = (CAPTURE / "road-america-2025-04-26-race-start.log").read_bytes().splitlines()
    return [line for line in lines if line.startswith(b"$")][:400]


class Message:
    def __init__(self, payload: bytes) -> None:
        self.payload = payload


@pytest.mark.parametrize("seed", range(8))
def test_every_peer_decodes_what_it_was_sent(seed: int) -> None:
    rng = random.Random(seed)
    clock = Clock()
    groups = DeflateGroups(regroup_s=5.0, clock=clock)
    sockets = [Socket() for _ in range(12)]
    expected: list[list[bytes]] = [[] for _ in sockets]
    bodies = payloads()
    for step in range(300):
        clock.now += rng.choice([0.1, 0.5, 2.0])
        payload = bodies[step % len(bodies)]
        roll = rng.random()
        if roll < 0.6:  # a broadcast; a few sockets skip it (already had it, or closing)
            message, round_groups = Message(payload), groups.next_round()
            for index, socket in enumerate(sockets):
                if rng.random() < 0.1:
                    continue
                socket.take(socket.seat.frame(message, payload, round_groups, socket.own))
                expected[index].append(payload)
        elif roll < 0.8:  # one socket's own message (its snapshot)
            index = rng.randrange(len(sockets))
            socket = sockets[index]
            socket.take(socket.seat.frame(Message(payload), payload, None, socket.own))
            expected[index].append(payload)
        elif roll < 0.9:  # through the library
            index = rng.randrange(len(sockets))
            sockets[index].through_library(payload)
            expected[index].append(payload)
        else:  # a new connection
            sockets.append(Socket())
            expected.append([])
    for socket, wanted in zip(sockets, expected, strict=True):
        assert socket.received == wanted


def test_a_broadcast_is_compressed_once_for_sockets_that_had_the_same_messages() -> None:
    groups = DeflateGroups()
    sockets = [Socket() for _ in range(50)]
    for index, socket in enumerate(sockets):  # each its own snapshot first
        snapshot = b'{"type":"snapshot","n":%d}' % index
        socket.take(socket.seat.frame(Message(snapshot), snapshot, None, socket.own))
    bodies = payloads()[:20]
    for payload in bodies:
        message, round_groups = Message(payload), groups.next_round()
        frames = set()
        for socket in sockets:
            frame = socket.seat.frame(message, payload, round_groups, socket.own)
            socket.take(frame)
            frames.add(frame)
        assert len(frames) == 1  # one compression, the same bytes for all fifty
    assert groups.group(SETTINGS).count == len(bodies)
    assert groups.strays == 0
    for socket in sockets:
        assert socket.received[1:] == bodies


def test_strays_join_the_next_group_after_the_regroup_time() -> None:
    clock = Clock()
    groups = DeflateGroups(regroup_s=10.0, clock=clock)
    early, late = Socket(), Socket()
    bodies = payloads()[:6]

    def broadcast(payload: bytes) -> set[bytes]:
        message, round_groups = Message(payload), groups.next_round()
        return {s.seat.frame(message, payload, round_groups, s.own) for s in (early, late)}

    for socket in (early, late):
        socket.seat.frame(Message(b"{}"), b"{}", None, socket.own)
    assert len(broadcast(bodies[0])) == 1  # both join the channel's first group
    late.seat.frame(Message(b"{}"), b"{}", None, late.own)  # late resyncs alone
    clock.now = 5.0
    assert len(broadcast(bodies[1])) == 2  # late is a stray: its own compressor
    assert groups.strays == 1
    clock.now = 10.0
    assert len(broadcast(bodies[2])) == 1  # a new group: both again
    assert groups.strays == 0
