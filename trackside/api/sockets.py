"""uvicorn's WebSocket protocol, offering the live fan-out direct frame writes.

Through ASGI every message to every socket is a dict passed down the middleware's wrapped
``send`` callables to the protocol, its ``str`` encoded again and its frame built by the
WebSocket library's general code, per socket: for one patch to a few hundred viewers that
costs more than the patch itself. This protocol puts a ``FrameWriter`` in the connection's
scope (``scope["extensions"]["trackside.frames"]``): the fan-out (``events.fanout``) writes a
message's text frame straight to the socket's transport. On a connection without
permessage-deflate the frame is the same bytes for every socket, made once; with it, a
broadcast is compressed once for all the sockets whose compressors may share it
(``live.wsframes``), anything else by the connection's own compressor, the one the library
keeps, so what goes through ASGI stays decodable. Anything a direct write cannot do at once
(a full socket buffer, a socket closing or not yet accepted) is left to the ASGI path.
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.extensions.permessage_deflate import PerMessageDeflate
from websockets.protocol import State

from trackside.events.fanout import FRAMES_EXTENSION, Outgoing
from trackside.live.wsframes import DeflateSeat, compressor, deflate, text_frame


class FrameWriter:
    """Writes text frames on one connection now, or says it cannot without waiting."""

    __slots__ = ("_protocol", "_seat")

    def __init__(self, protocol: WebSocketsSansIOProtocol) -> None:
        self._protocol = protocol
        self._seat: DeflateSeat | None = None

    def send(self, message: Outgoing) -> bool:
        """True when the frame is in the transport; False: send it through ASGI instead."""
        protocol = self._protocol
        if (
            not protocol.handshake_complete
            or protocol.close_sent
            or protocol.disconnected
            or protocol.initial_response is not None
            or not protocol.writable.is_set()
            or protocol.conn.state is not State.OPEN
        ):
            return False
        extensions = protocol.conn.extensions
        if not extensions:
            protocol.transport.write(message.frame)
            return True
        extension = extensions[0]
        if len(extensions) != 1 or not isinstance(extension, PerMessageDeflate):
            return False  # an extension this writer does not know: the library frames it
        if extension.local_no_context_takeover:
            # Every message compressed on its own, as the library would.
            fresh = compressor(_settings(extension))
            protocol.transport.write(text_frame(deflate(fresh, message.payload), True))
            return True
        seat = self._seat
        if seat is None:
            seat = self._seat = DeflateSeat(_settings(extension))
        frame = seat.frame(message, message.payload, message.deflate, extension)
        protocol.transport.write(frame)
        return True


def _settings(extension: PerMessageDeflate) -> tuple[int, tuple[tuple[str, Any], ...]]:
    return extension.local_max_window_bits, tuple(sorted(extension.compress_settings.items()))


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
