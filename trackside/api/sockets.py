"""uvicorn's WebSocket protocol, offering the live fan-out direct frame writes.

Through ASGI every message to every socket is a dict passed down the middleware's wrapped
``send`` callables to the protocol, its ``str`` encoded again and its frame built by the
WebSocket library's general code, per socket: for one patch to a few hundred viewers that
costs more than the patch itself. This protocol puts a ``FrameWriter`` in the connection's
scope (``scope["extensions"]["trackside.frames"]``): the fan-out (``events.fanout``) writes a
message's text frame straight to the socket's transport. On a connection without
permessage-deflate the frame is the same bytes for every socket, made once; with it, the
connection's own compressor (the one the library keeps, so later frames sent through ASGI
stay in step) compresses the payload encoded once. Anything a direct write cannot do at once
(a full socket buffer, a socket closing or not yet accepted) is left to the ASGI path.
"""

from __future__ import annotations

import zlib
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.extensions.permessage_deflate import PerMessageDeflate
from websockets.protocol import State

from trackside.events.fanout import FRAMES_EXTENSION, Outgoing, text_frame

SYNC_FLUSH_TAIL = b"\x00\x00\xff\xff"  # RFC 7692 7.2.1: removed from every message


class FrameWriter:
    """Writes text frames on one connection now, or says it cannot without waiting."""

    __slots__ = ("_protocol",)

    def __init__(self, protocol: WebSocketsSansIOProtocol) -> None:
        self._protocol = protocol

    def send(self, message: Outgoing) -> bool:
        """True when the frame is in the transport; False: send it through ASGI instead."""
        protocol = self._protocol
        if (
            not protocol.handshake_complete
            or protocol.close_sent
            or protocol.disconnected
            or protocol.initial_response is not None
            or not protocol.writable.is_set()
        ):
            return False
        conn = protocol.conn
        if conn.state is not State.OPEN:
            return False
        extensions = conn.extensions
        if not extensions:
            protocol.transport.write(message.frame)
            return True
        if len(extensions) != 1 or not isinstance(extensions[0], PerMessageDeflate):
            return False  # an extension this writer does not know: the library frames it
        protocol.transport.write(text_frame(_deflate(extensions[0], message.payload), True))
        return True


def _deflate(extension: PerMessageDeflate, payload: bytes) -> bytes:
    """One message compressed as the extension would: with its compressor (context kept
    across messages) unless the peer asked for none to be kept."""
    if extension.local_no_context_takeover:
        encoder = zlib.compressobj(
            wbits=-extension.local_max_window_bits, **extension.compress_settings
        )
    else:
        encoder = extension.encoder
    data = encoder.compress(payload) + encoder.flush(zlib.Z_SYNC_FLUSH)
    return data[:-4] if data.endswith(SYNC_FLUSH_TAIL) else data


class DirectFramesProtocol(WebSocketsSansIOProtocol):
    """uvicorn's sans-I/O WebSocket protocol with a ``FrameWriter`` in every scope."""

    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        # The application's task is created but has not run: it sees the extension.
        scope = getattr(self, "scope", None)
        if scope is not None:
            scope["extensions"][FRAMES_EXTENSION] = FrameWriter(self)


def websocket_options() -> dict[str, Any]:
    """uvicorn's WebSocket settings for every server of the app (serve, demo, tests)."""
    return {
        "ws": DirectFramesProtocol,
        # No WebSocket-level pings: signalrcore never answers them and would be dropped after
        # 40 s. The SignalR hub keeps its connections alive with its own Ping messages, /ws
        # with its own {"type": "ping"}.
        "ws_ping_interval": None,
        "ws_ping_timeout": None,
        # Live patches compress well across messages (browsers offer permessage-deflate): on
        # the wire a viewer gets a fraction of the JSON's bytes; clients that don't offer it
        # get plain frames.
        "ws_per_message_deflate": True,
    }
