"""The ASP.NET Core SignalR JSON hub protocol, server side, as pure text in and out.

Covers what ../shared/reference/protocols.md §(b) asks of a hub that the official clients
(``@microsoft/signalr``, ``signalrcore``, ``pysignalr``) accept: the negotiate answers (v0 and
v1), the handshake, the record-separator framing, the hub messages both ways, and keep-alive
timing. Sockets, HTTP and auth belong to the server; nothing here does I/O or reads a clock.

Messages out are ``str`` ending in ``0x1E``, ready for a WebSocket *text* frame (the JSON
protocol uses text frames); build one once and send the same object to every subscriber.
Broadcasts carry no ``invocationId``: with one, the JS client answers with a Completion.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

import orjson

RECORD_SEPARATOR = "\x1e"
HANDSHAKE_OK = "{}" + RECORD_SEPARATOR
SUPPORTED_PROTOCOL = "json"
# ASP.NET Core accepts any JSON protocol version up to its own (2). signalrcore 1.0.2 sends its
# negotiate version as the protocol version: 0 after a v0 negotiate.
SUPPORTED_VERSIONS = frozenset({0, 1, 2})
LATEST_NEGOTIATE_VERSION = 1
# Keep-alive: ping a client idle this long; drop one silent this long; handshake deadline.
KEEP_ALIVE_MS = 15_000
CLIENT_TIMEOUT_MS = 30_000
HANDSHAKE_TIMEOUT_MS = 15_000
WEBSOCKETS_TRANSPORT = {"transport": "WebSockets", "transferFormats": ["Text", "Binary"]}
# A partial message longer than this is not a client speaking the protocol.
MAX_BUFFERED_CHARS = 1 << 20


class ProtocolError(ValueError):
    """Input that breaks the hub protocol; the server answers with an error and closes."""


class MessageType(IntEnum):
    INVOCATION = 1
    STREAM_ITEM = 2
    COMPLETION = 3
    STREAM_INVOCATION = 4
    CANCEL_INVOCATION = 5
    PING = 6
    CLOSE = 7
    ACK = 8
    SEQUENCE = 9


# --- negotiate --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Connection:
    """A negotiated connection: ``connection_id`` is public, ``connection_token`` is secret."""

    connection_id: str
    connection_token: str

    def socket_id(self, negotiate_version: int) -> str:
        """The ``?id=`` the client's WebSocket will carry: the token (v1) or the id (v0)."""
        return self.connection_token if negotiate_version >= 1 else self.connection_id


def negotiate_version(query_value: str | None) -> int:
    """The version to answer: ``min(requested or 0, 1)``; raises ProtocolError on non-numbers."""
    if query_value is None or query_value == "":
        return 0
    try:
        requested = int(query_value)
    except ValueError:
        raise ProtocolError(
            f"The negotiateVersion query string parameter {query_value!r} cannot be parsed."
        ) from None
    return max(0, min(requested, LATEST_NEGOTIATE_VERSION))


def negotiate_response(version: int, connection: Connection) -> bytes:
    """The 200 body of ``POST {hub}/negotiate``; never a ``ProtocolVersion`` key."""
    body: dict[str, Any] = {}
    if version >= 1:
        body["connectionToken"] = connection.connection_token
    body["connectionId"] = connection.connection_id
    body["negotiateVersion"] = version
    body["availableTransports"] = [
        {"transport": "WebSockets", "transferFormats": ["Text", "Binary"]}
    ]
    return orjson.dumps(body)


def negotiate_error(message: str) -> bytes:
    return orjson.dumps({"error": message})


# --- framing ----------------------------------------------------------------------------------


def frame(message: dict[str, Any]) -> str:
    """One message as JSON followed by the record separator."""
    return orjson.dumps(message).decode() + RECORD_SEPARATOR


@dataclass(slots=True)
class FrameReader:
    """Splits incoming WebSocket frames into messages: one frame may hold several messages, and
    a message may end in a later frame. Empty pieces are dropped."""

    max_buffered: int = MAX_BUFFERED_CHARS
    _tail: str = ""
    # Binary frames may split a character between them: decode incrementally, strictly.
    _utf8: codecs.IncrementalDecoder = field(
        default_factory=lambda: codecs.getincrementaldecoder("utf-8")("strict")
    )

    def feed(self, data: str | bytes) -> list[str]:
        if isinstance(data, bytes | bytearray):
            try:
                text = self._utf8.decode(data)
            except UnicodeDecodeError as exc:
                raise ProtocolError(f"invalid UTF-8 at byte {exc.start}") from None
        else:
            text = data
        pieces = (self._tail + text).split(RECORD_SEPARATOR)
        self._tail = pieces.pop()
        if len(self._tail) > self.max_buffered:
            self._tail = ""
            raise ProtocolError("message too long without a record separator")
        return [piece for piece in pieces if piece]

    @property
    def pending(self) -> str:
        """What has arrived of a message not yet complete."""
        return self._tail


# --- handshake --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HandshakeRequest:
    protocol: str
    version: int


def _object(text: str | bytes) -> dict[str, Any]:
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise ProtocolError(f"not JSON: {exc}") from None
    if type(value) is not dict:
        raise ProtocolError("a message must be a JSON object")
    return value


def parse_handshake(text: str | bytes) -> HandshakeRequest:
    """The client's first message, without its separator: ``{"protocol":"json","version":1}``."""
    body = _object(text)
    protocol, version = body.get("protocol"), body.get("version")
    if type(protocol) is not str:
        raise ProtocolError("handshake: 'protocol' must be a string")
    if type(version) is not int:
        raise ProtocolError("handshake: 'version' must be an integer")
    return HandshakeRequest(protocol, version)


def handshake_response(request: HandshakeRequest) -> tuple[str, bool]:
    """The answer to a handshake and whether the connection may go on (else close after it)."""
    if request.protocol != SUPPORTED_PROTOCOL:
        return handshake_error(f"Requested protocol '{request.protocol}' is not available."), False
    if request.version not in SUPPORTED_VERSIONS:
        return (
            handshake_error(
                f"The server does not support version {request.version} "
                f"of the '{request.protocol}' protocol."
            ),
            False,
        )
    return HANDSHAKE_OK, True


def handshake_error(message: str) -> str:
    return frame({"error": message})


# --- messages in ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Invocation:
    """Type 1 (or 4, ``stream`` true): a call of a hub method."""

    target: str
    arguments: list[Any]
    invocation_id: str | None = None
    stream_ids: list[str] = field(default_factory=list)
    stream: bool = False

    def is_target(self, name: str) -> bool:
        """Hub method names match without regard to case, as ASP.NET Core hubs do."""
        return self.target.casefold() == name.casefold()


@dataclass(frozen=True, slots=True)
class StreamItem:
    invocation_id: str
    item: Any


@dataclass(frozen=True, slots=True)
class Completion:
    invocation_id: str
    result: Any = None
    error: str | None = None
    has_result: bool = False


@dataclass(frozen=True, slots=True)
class CancelInvocation:
    invocation_id: str


@dataclass(frozen=True, slots=True)
class Ping:
    pass


@dataclass(frozen=True, slots=True)
class Close:
    error: str | None = None
    allow_reconnect: bool = False


@dataclass(frozen=True, slots=True)
class Ack:
    sequence_id: int


@dataclass(frozen=True, slots=True)
class Sequence:
    sequence_id: int


HubMessage = Invocation | StreamItem | Completion | CancelInvocation | Ping | Close | Ack | Sequence


def _invocation_id(body: dict[str, Any], required: bool) -> str | None:
    value = body.get("invocationId")
    if value is None and not required:
        return None
    if type(value) is not str or not value:
        raise ProtocolError("'invocationId' must be a non-empty string")
    return value


def _sequence_id(body: dict[str, Any]) -> int:
    value = body.get("sequenceId")
    if type(value) is not int:
        raise ProtocolError("'sequenceId' must be an integer")
    return value


def _parse_invocation(body: dict[str, Any], stream: bool) -> Invocation:
    target, arguments = body.get("target"), body.get("arguments")
    if type(target) is not str or not target:
        raise ProtocolError("'target' must be a non-empty string")
    if type(arguments) is not list:
        raise ProtocolError("'arguments' must be an array")
    stream_ids = body.get("streamIds", [])
    if type(stream_ids) is not list or not all(type(s) is str for s in stream_ids):
        raise ProtocolError("'streamIds' must be an array of strings")
    return Invocation(target, arguments, _invocation_id(body, stream), stream_ids, stream)


def _parse_completion(body: dict[str, Any]) -> Completion:
    if "result" in body and "error" in body:
        raise ProtocolError("a completion carries 'result' or 'error', never both")
    error = body.get("error")
    if error is not None and type(error) is not str:
        raise ProtocolError("'error' must be a string")
    return Completion(_invocation_id(body, True) or "", body.get("result"), error, "result" in body)


def parse_message(text: str | bytes) -> HubMessage:
    """One message (without its separator) from a client. ``headers`` are ignored: clients put
    their HTTP headers, bearer token included, there — never log a raw message."""
    body = _object(text)
    kind = body.get("type")
    if type(kind) is not int:
        raise ProtocolError("'type' must be an integer")
    if kind == MessageType.INVOCATION:
        return _parse_invocation(body, stream=False)
    if kind == MessageType.STREAM_INVOCATION:
        return _parse_invocation(body, stream=True)
    if kind == MessageType.STREAM_ITEM:
        return StreamItem(_invocation_id(body, True) or "", body.get("item"))
    if kind == MessageType.COMPLETION:
        return _parse_completion(body)
    if kind == MessageType.CANCEL_INVOCATION:
        return CancelInvocation(_invocation_id(body, True) or "")
    if kind == MessageType.PING:
        return Ping()
    if kind == MessageType.CLOSE:
        error = body.get("error")
        return Close(error if type(error) is str else None, body.get("allowReconnect") is True)
    if kind == MessageType.ACK:
        return Ack(_sequence_id(body))
    if kind == MessageType.SEQUENCE:
        return Sequence(_sequence_id(body))
    raise ProtocolError(f"unknown message type {kind}")


# --- messages out -----------------------------------------------------------------------------

PING = frame({"type": MessageType.PING})
_MISSING: Any = object()


def invocation(target: str, arguments: list[Any], invocation_id: str | None = None) -> str:
    """Type 1. Server broadcasts leave ``invocation_id`` out."""
    message: dict[str, Any] = {"type": MessageType.INVOCATION}
    if invocation_id is not None:
        message["invocationId"] = invocation_id
    message["target"] = target
    message["arguments"] = arguments
    return frame(message)


def receive_message(status: str) -> str:
    """The hub's broadcast of a compact payload: ``ReceiveMessage(status)``."""
    return invocation("ReceiveMessage", [status])


def completion(invocation_id: str, result: Any = _MISSING, error: str | None = None) -> str:
    """Type 3: the answer to an invocation that had an id; a result or an error, never both."""
    if result is not _MISSING and error is not None:
        raise ValueError("a completion carries a result or an error, never both")
    message: dict[str, Any] = {"type": MessageType.COMPLETION, "invocationId": invocation_id}
    if error is not None:
        message["error"] = error
    elif result is not _MISSING:
        message["result"] = result
    return frame(message)


def stream_item(invocation_id: str, item: Any) -> str:
    return frame({"type": MessageType.STREAM_ITEM, "invocationId": invocation_id, "item": item})


def close(error: str | None = None, allow_reconnect: bool = False) -> str:
    """Type 7: the server is closing the connection (then close the socket with 1000)."""
    message: dict[str, Any] = {"type": MessageType.CLOSE}
    if error is not None:
        message["error"] = error
    if allow_reconnect:
        message["allowReconnect"] = True
    return frame(message)


# --- keep-alive -------------------------------------------------------------------------------


@dataclass(slots=True)
class KeepAlive:
    """When to ping a client and when to give up on it, from times the server passes in (ms)."""

    last_sent_ms: int
    last_received_ms: int
    interval_ms: int = KEEP_ALIVE_MS
    timeout_ms: int = CLIENT_TIMEOUT_MS

    @classmethod
    def start(cls, now_ms: int) -> KeepAlive:
        return cls(now_ms, now_ms)

    def sent(self, now_ms: int) -> None:
        self.last_sent_ms = now_ms

    def received(self, now_ms: int) -> None:
        self.last_received_ms = now_ms

    def ping_due(self, now_ms: int) -> bool:
        return now_ms - self.last_sent_ms >= self.interval_ms

    def timed_out(self, now_ms: int) -> bool:
        return now_ms - self.last_received_ms >= self.timeout_ms


def event_id_argument(call: Invocation) -> int:
    """The event id of ``SubscribeToEvent(eventId)`` / ``UnsubscribeFromEvent(eventId)``.

    Clients send it as a number; a numeric string is accepted too.
    """
    if len(call.arguments) != 1:
        raise ProtocolError(f"{call.target} takes one argument, got {len(call.arguments)}")
    value = call.arguments[0]
    if type(value) is int:
        return value
    # isascii + isdecimal: "²".isdigit() is True, yet int("²") raises.
    if type(value) is str and value.strip().isascii() and value.strip().isdecimal():
        return int(value)
    raise ProtocolError(f"{call.target}: event id must be an integer, got {value!r}")
