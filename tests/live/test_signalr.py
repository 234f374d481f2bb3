"""SignalR JSON hub protocol helpers: what the official clients send and must get back."""

from __future__ import annotations

import orjson
import pytest

from trackside.live import signalr
from trackside.live.signalr import (
    RECORD_SEPARATOR,
    Close,
    Completion,
    Connection,
    FrameReader,
    HandshakeRequest,
    Invocation,
    KeepAlive,
    Ping,
    ProtocolError,
)

RS = RECORD_SEPARATOR
CONNECTION = Connection(connection_id="pub-id", connection_token="secret-token")


def _body(message: str) -> dict:
    assert message.endswith(RS) and message.count(RS) == 1
    return orjson.loads(message[:-1])


@pytest.mark.parametrize(
    ("query", "version"), [(None, 0), ("", 0), ("0", 0), ("1", 1), ("2", 1), ("-3", 0)]
)
def test_negotiate_answers_min_of_requested_and_one(query: str | None, version: int) -> None:
    assert signalr.negotiate_version(query) == version


def test_negotiate_version_must_be_a_number() -> None:
    with pytest.raises(ProtocolError, match="cannot be parsed"):
        signalr.negotiate_version("one")


def test_negotiate_v1_body() -> None:
    body = orjson.loads(signalr.negotiate_response(1, CONNECTION))
    assert body == {
        "connectionToken": "secret-token",
        "connectionId": "pub-id",
        "negotiateVersion": 1,
        "availableTransports": [{"transport": "WebSockets", "transferFormats": ["Text", "Binary"]}],
    }
    assert CONNECTION.socket_id(1) == "secret-token"


def test_negotiate_v0_body_has_no_token_and_never_a_protocol_version() -> None:
    body = orjson.loads(signalr.negotiate_response(0, CONNECTION))
    assert "connectionToken" not in body and "ProtocolVersion" not in body
    assert (body["connectionId"], body["negotiateVersion"]) == ("pub-id", 0)
    assert body["availableTransports"][0]["transport"] == "WebSockets"
    assert CONNECTION.socket_id(0) == "pub-id"
    assert orjson.loads(signalr.negotiate_error("nope")) == {"error": "nope"}


def test_frames_split_join_and_drop_empty_pieces() -> None:
    reader = FrameReader()
    handshake = '{"protocol":"json","version":1}'
    # The JS client sends its first ping right behind the handshake, sometimes in one frame.
    assert reader.feed(handshake + RS + '{"type":6}' + RS) == [handshake, '{"type":6}']
    assert reader.feed('{"type":1,"tar') == []
    assert reader.pending == '{"type":1,"tar'
    assert reader.feed(b'get":"X","arguments":[]}' + RS.encode() + RS.encode() + b'{"ty') == [
        '{"type":1,"target":"X","arguments":[]}'
    ]
    assert reader.feed('pe":6}' + RS) == ['{"type":6}']
    assert reader.pending == ""


def test_frame_reader_refuses_endless_partial_messages() -> None:
    reader = FrameReader(max_buffered=10)
    with pytest.raises(ProtocolError):
        reader.feed("x" * 11)


def test_handshake() -> None:
    request = signalr.parse_handshake('{"protocol":"json","version":1}')
    assert request == HandshakeRequest("json", 1)
    assert signalr.handshake_response(request) == ("{}" + RS, True)
    assert signalr.handshake_response(HandshakeRequest("json", 2))[1] is True
    assert signalr.handshake_response(HandshakeRequest("json", 0))[1] is True  # signalrcore
    answer, ok = signalr.handshake_response(HandshakeRequest("messagepack", 1))
    assert not ok and _body(answer) == {
        "error": "Requested protocol 'messagepack' is not available."
    }
    answer, ok = signalr.handshake_response(HandshakeRequest("json", 3))
    assert not ok and "type" not in _body(answer) and "error" in _body(answer)


@pytest.mark.parametrize(
    "text", ["{", "[]", '{"protocol":1,"version":1}', '{"protocol":"json","version":"1"}']
)
def test_bad_handshakes(text: str) -> None:
    with pytest.raises(ProtocolError):
        signalr.parse_handshake(text)


def test_parse_invocations() -> None:
    call = signalr.parse_message(
        '{"type":1,"invocationId":"7","target":"SubscribeToEvent","arguments":[42],'
        '"headers":{"Authorization":"Bearer x"}}'
    )
    assert call == Invocation("SubscribeToEvent", [42], "7")
    assert isinstance(call, Invocation) and call.is_target("subscribetoevent")
    assert signalr.event_id_argument(call) == 42
    fire_and_forget = signalr.parse_message(
        '{"type":1,"target":"UnsubscribeFromEvent","arguments":["42"]}'
    )
    assert isinstance(fire_and_forget, Invocation) and fire_and_forget.invocation_id is None
    assert signalr.event_id_argument(fire_and_forget) == 42
    stream = signalr.parse_message('{"type":4,"invocationId":"8","target":"S","arguments":[]}')
    assert isinstance(stream, Invocation) and stream.stream


def test_parse_other_messages() -> None:
    assert signalr.parse_message('{"type":6}') == Ping()
    assert signalr.parse_message('{"type":7}') == Close()
    assert signalr.parse_message('{"type":7,"error":"bye","allowReconnect":true}') == Close(
        "bye", True
    )
    done = signalr.parse_message('{"type":3,"invocationId":"1","result":null}')
    assert done == Completion("1", None, None, has_result=True)
    failed = signalr.parse_message('{"type":3,"invocationId":"1","error":"no"}')
    assert failed == Completion("1", None, "no", has_result=False)
    assert signalr.parse_message('{"type":5,"invocationId":"8"}') == signalr.CancelInvocation("8")
    assert signalr.parse_message('{"type":8,"sequenceId":3}') == signalr.Ack(3)


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[1]",
        "{}",  # no type
        '{"type":"1"}',
        '{"type":1,"arguments":[]}',  # no target
        '{"type":1,"target":"X"}',  # no arguments
        '{"type":1,"target":"X","arguments":{}}',
        '{"type":1,"invocationId":7,"target":"X","arguments":[]}',  # ids are strings
        '{"type":1,"invocationId":"","target":"X","arguments":[]}',
        '{"type":3,"invocationId":"1","result":1,"error":"e"}',
        '{"type":3}',
        '{"type":8}',
        '{"type":99}',
    ],
)
def test_protocol_errors(text: str) -> None:
    with pytest.raises(ProtocolError):
        signalr.parse_message(text)


def test_event_id_argument_checks() -> None:
    for arguments in ([], [1, 2], ["x"], [1.5], [None]):
        with pytest.raises(ProtocolError):
            signalr.event_id_argument(Invocation("SubscribeToEvent", arguments))


def test_messages_out() -> None:
    assert signalr.PING == '{"type":6}' + RS
    broadcast = _body(signalr.receive_message("H4sI..."))
    assert broadcast == {"type": 1, "target": "ReceiveMessage", "arguments": ["H4sI..."]}
    assert "invocationId" not in broadcast  # else the JS client answers with a completion
    assert _body(signalr.invocation("X", [1], "4"))["invocationId"] == "4"
    assert _body(signalr.completion("7")) == {"type": 3, "invocationId": "7"}
    assert _body(signalr.completion("7", result=None)) == {
        "type": 3,
        "invocationId": "7",
        "result": None,
    }
    assert _body(signalr.completion("7", error="bad")) == {
        "type": 3,
        "invocationId": "7",
        "error": "bad",
    }
    with pytest.raises(ValueError):
        signalr.completion("7", result=1, error="bad")
    assert _body(signalr.close()) == {"type": 7}
    assert _body(signalr.close("shutting down", allow_reconnect=True)) == {
        "type": 7,
        "error": "shutting down",
        "allowReconnect": True,
    }
    assert _body(signalr.stream_item("8", {"a": 1})) == {
        "type": 2,
        "invocationId": "8",
        "item": {"a": 1},
    }


def test_messages_out_parse_back() -> None:
    reader = FrameReader()
    out = signalr.invocation("ReceiveMessage", ["x"], "9") + signalr.PING + signalr.close("e")
    parsed = [signalr.parse_message(m) for m in reader.feed(out)]
    assert parsed == [Invocation("ReceiveMessage", ["x"], "9"), Ping(), Close("e")]


def test_keep_alive() -> None:
    alive = KeepAlive.start(1_000)
    assert not alive.ping_due(15_999) and alive.ping_due(16_000)
    alive.sent(16_000)
    assert not alive.ping_due(30_999)
    assert not alive.timed_out(30_999) and alive.timed_out(31_000)
    alive.received(30_000)
    assert not alive.timed_out(59_999) and alive.timed_out(60_000)


def test_frames_decode_utf8_across_frames_and_refuse_bad_bytes() -> None:
    reader = signalr.FrameReader()
    data = '{"a":"é"}\x1e'.encode()
    cut = data.index("é".encode()) + 1
    assert reader.feed(data[:cut]) == []
    assert reader.feed(data[cut:]) == ['{"a":"é"}']
    with pytest.raises(signalr.ProtocolError, match="UTF-8"):
        signalr.FrameReader().feed(b"\xff{}\x1e")


def test_odd_digits_are_no_event_id() -> None:
    for value in ("²", "\u0661", " 12x"):  # superscript two, Arabic-Indic one
        call = signalr.Invocation("SubscribeToEvent", [value])
        with pytest.raises(signalr.ProtocolError, match="event id"):
            signalr.event_id_argument(call)
    assert signalr.event_id_argument(signalr.Invocation("SubscribeToEvent", [" 12 "])) == 12
