from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trackside.feeds.p3 import (
    EOR,
    SOR,
    P3Deframer,
    P3StreamDecoder,
    crc16,
    decode_frame,
    decode_hex_frame,
    encode,
    encode_frame,
    encode_passing,
    escape,
    parse_stream,
    read_hex_capture,
    unescape,
)
from trackside.feeds.p3_records import (
    TOR_PASSING,
    TOR_VERSION,
    P3Error,
    P3Field,
    P3Message,
    P3Passing,
    P3Status,
)

AMB = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "p3" / "amb.out"
FIRST_STATUS = "8e021f004d7c0000020001022700070216000c01760601008104131804008f"
# The worked decode of the reference, item by item.
FIRST_PASSING = "".join(
    [
        "8e 02 3300 53c8 0000 0100",
        "01 04 51680200",
        "03 04 73d75600",
        "04 08 88f2fab51e830500",
        "05 02 b200",
        "06 02 3400",
        "08 02 0000",
        "81 04 13180400",
        "8f",
    ]
).replace(" ", "")
DECODER = 0x00041813


@pytest.fixture(scope="module")
def amb_lines() -> list[str]:
    if not AMB.exists():  # pragma: no cover - the suite needs shared/ beside the checkout
        pytest.fail(f"capture missing: {AMB}")
    return AMB.read_text().splitlines()


@pytest.fixture(scope="module")
def amb(amb_lines: list[str]) -> list:
    return list(read_hex_capture("\n".join(amb_lines) + "\n"))


def _wire(lines: list[str]) -> bytes:
    return b"".join(bytes.fromhex(line) for line in lines)


def _unescaped(line: str) -> bytes:
    raw = bytes.fromhex(line)
    return raw[:1] + unescape(raw[1:-1]) + raw[-1:]


# ---------------------------------------------------------------------------- CRC and escaping


def test_crc_test_vector_of_the_reference() -> None:
    frame = bytes.fromhex(FIRST_STATUS)
    assert crc16(frame) == 0x7C4D
    assert frame[4:6] == bytes.fromhex("4d7c")


def test_crc_ignores_the_crc_field_itself() -> None:
    frame = bytearray.fromhex(FIRST_STATUS)
    frame[4:6] = b"\xff\xff"
    assert crc16(bytes(frame)) == 0x7C4D


def test_escape_round_trip_and_wire_bytes() -> None:
    assert escape(b"\x01\x8d\x8e\x8f\x02") == b"\x01\x8d\xad\x8d\xae\x8d\xaf\x02"
    assert unescape(b"\x01\x8d\xad\x8d\xae\x8d\xaf\x02") == b"\x01\x8d\x8e\x8f\x02"
    # 0x8a-0x8c are sent raw by the captured decoder and must not be touched.
    assert escape(b"\x8a\x8b\x8c") == b"\x8a\x8b\x8c"


# ---------------------------------------------------------------------------- the real capture


def test_capture_decodes_every_frame(amb: list) -> None:
    kinds = Counter(type(record).__name__ for record in amb)
    assert kinds == {"P3Status": 1304, "P3Passing": 84}


def test_capture_passings(amb: list) -> None:
    passings = [r for r in amb if isinstance(r, P3Passing)]
    assert Counter(p.transponder for p in passings) == {3438895: 31, 5691251: 27, 3292480: 26}
    assert [p.passing_number for p in passings] == list(range(157777, 157861))
    assert {p.decoder_id for p in passings} == {DECODER}
    assert all(144 <= p.strength <= 183 and 26 <= p.hits <= 107 for p in passings)
    assert {p.flags for p in passings} == {0}
    assert all(p.extra == () and p.tran_code is None for p in passings)
    first, last = passings[0], passings[-1]
    assert datetime.fromtimestamp(first.rtc_time_us / 1e6, UTC).isoformat() == (
        "2019-03-02T16:06:48.933000+00:00"
    )
    assert datetime.fromtimestamp(last.rtc_time_us / 1e6, UTC).isoformat() == (
        "2019-03-02T17:40:43.067000+00:00"
    )


def test_worked_decode_of_the_reference() -> None:
    assert decode_frame(bytes.fromhex(FIRST_PASSING)) == P3Passing(
        passing_number=157777,
        rtc_time_us=1551542808933000,
        transponder=5691251,
        strength=178,
        hits=52,
        flags=0,
        decoder_id=DECODER,
    )
    passing = decode_frame(bytes.fromhex(FIRST_PASSING))
    assert isinstance(passing, P3Passing)
    assert passing.rtc_time_ms == 1551542808933
    assert passing.transponder_key == "5691251"


def test_capture_status(amb: list) -> None:
    statuses = [r for r in amb if isinstance(r, P3Status)]
    assert min(s.noise for s in statuses) == 33
    assert max(s.noise for s in statuses) == 58
    assert {s.temperature for s in statuses} == {22, 23}
    assert {s.input_voltage for s in statuses} == {118, 119}
    assert {s.gps for s in statuses} == {0}
    assert {s.decoder_id for s in statuses} == {DECODER}
    assert decode_frame(bytes.fromhex(FIRST_STATUS)) == P3Status(
        noise=39, gps=0, temperature=22, input_voltage=118, decoder_id=DECODER
    )


def test_capture_crc_zero_frames_verify(amb_lines: list[str]) -> None:
    zero = [line for line in amb_lines if _unescaped(line)[4:6] == b"\x00\x00"]
    assert len(zero) == 11
    for line in zero:
        assert crc16(_unescaped(line)) == 0
        assert not isinstance(decode_frame(bytes.fromhex(line)), P3Error)


def test_capture_escaped_frames(amb_lines: list[str]) -> None:
    escaped = [line for line in amb_lines if b"\x8d" in bytes.fromhex(line)]
    assert len(escaped) == 5
    assert sum(bytes.fromhex(line).count(b"\x8d") for line in escaped) == 6
    for line in escaped:
        record = decode_frame(bytes.fromhex(line))
        assert isinstance(record, P3Passing)
        assert len(_unescaped(line)) == 51
    # Two frames whose CRC field itself is escaped (reference §a).
    crc_escaped = [line for line in escaped if line[8:10] == "8d"]
    assert [line[:16] for line in crc_escaped] == ["8e0233008dae4000", "8e0233008dafd400"]
    assert [_unescaped(line)[4:6].hex() for line in crc_escaped] == ["8e40", "8fd4"]


def test_capture_re_encodes_byte_for_byte(amb: list, amb_lines: list[str]) -> None:
    assert [encode(record).hex() for record in amb] == amb_lines


@pytest.mark.parametrize("size", [1, 5, 31, 64, 4096])
def test_capture_in_chunks_of_any_size(amb: list, amb_lines: list[str], size: int) -> None:
    wire = _wire(amb_lines)
    chunks = [wire[i : i + size] for i in range(0, len(wire), size)]
    assert list(parse_stream(chunks)) == amb


def test_garbage_between_frames_is_reported_and_frames_survive(amb_lines: list[str]) -> None:
    lines = amb_lines[:40]
    wire = b"junk" + b"\r\n".join(bytes.fromhex(line) for line in lines) + b"\x00\x01"
    records = list(parse_stream([wire[i : i + 7] for i in range(0, len(wire), 7)]))
    errors = [r for r in records if isinstance(r, P3Error)]
    assert [r.raw for r in errors] == [b"junk", *[b"\r\n"] * 39, b"\x00\x01"]
    assert {r.reason for r in errors} == {"bytes outside a frame"}
    assert [r for r in records if not isinstance(r, P3Error)] == list(
        read_hex_capture("\n".join(lines))
    )


# ---------------------------------------------------------------------------- bad input


def _passing_frame() -> bytearray:
    return bytearray.fromhex(FIRST_PASSING)


def test_crc_mismatch_is_an_error_unless_checking_is_off() -> None:
    frame = _passing_frame()
    frame[4] ^= 0x01
    error = decode_frame(bytes(frame))
    assert isinstance(error, P3Error)
    assert error.reason.startswith("CRC mismatch")
    assert error.raw == bytes(frame)
    assert isinstance(decode_frame(bytes(frame), check_crc=False), P3Passing)


def test_a_zero_crc_is_checked_like_any_other() -> None:
    frame = _passing_frame()
    frame[4:6] = b"\x00\x00"
    assert isinstance(decode_frame(bytes(frame)), P3Error)


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda f: f[:20] + f[-1:], "length field says 51 bytes, frame has 21"),
        (lambda f: f[:1] + b"\x07" + f[2:], "unknown protocol version 0x07"),
        (lambda f: f[:-1], "no end of record (0x8f)"),
        (lambda f: f[1:], "no start of record (0x8e)"),
        (lambda f: f[:5] + b"\x8d" + f[6:], "escape byte 0x8d not followed by an escaped byte"),
        (lambda f: f[:6] + b"\x8e" + f[7:], "unescaped start or end of record inside a frame"),
        (lambda f: bytes((SOR, 2, 3, 0, EOR)), "frame of 5 bytes is shorter than a header"),
    ],
)
def test_malformed_frames(mutate, reason: str) -> None:
    error = decode_frame(bytes(mutate(bytes(_passing_frame()))))
    assert isinstance(error, P3Error)
    assert error.reason == reason


def _frame(tor: int, body: bytes) -> bytes:
    """A wire frame around any body, with a correct length and CRC."""
    frame = bytearray((SOR, 2, 0, 0, 0, 0, 0, 0)) + tor.to_bytes(2, "little") + body
    frame.append(EOR)
    frame[2:4] = len(frame).to_bytes(2, "little")
    frame[4:6] = crc16(bytes(frame)).to_bytes(2, "little")
    return bytes((SOR,)) + escape(bytes(frame[1:-1])) + bytes((EOR,))


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"\x01\x04\x01\x00\x00\x00\x05\x0a\x00", "TLV item 0x05 runs past the end of the frame"),
        (b"\x01\x04\x01\x00\x00\x00\x05", "TLV item at body offset 6 has no length byte"),
        (
            b"\x01\x04\x01\x00\x00\x00" + b"\x04\x08" + bytes(8),
            "PASSING without a transponder (tag 0x03 or 0x0a)",
        ),
        (
            b"\x03\x04\x01\x00\x00\x00" + b"\x04\x08" + bytes(8),
            "PASSING without a passing number (tag 0x01)",
        ),
        (b"\x01\x01\x07\x03\x01\x09", "PASSING without an RTC time (tag 0x04)"),
        # A known tag with a size no integer has is kept as extra, so it is missing here.
        (b"\x01\x00\x03\x01\x09\x04\x01\x01", "PASSING without a passing number (tag 0x01)"),
    ],
)
def test_bad_bodies(body: bytes, reason: str) -> None:
    error = decode_frame(_frame(TOR_PASSING, body))
    assert isinstance(error, P3Error)
    assert error.reason == reason


def test_unknown_tor_and_unknown_tags_are_kept() -> None:
    fields = (P3Field(0x20, b"\x01\x02"), P3Field(0x81, b"\x13\x18\x04\x00"))
    message = decode_frame(encode_frame(TOR_VERSION, fields))
    assert message == P3Message(tor=TOR_VERSION, fields=fields)
    assert isinstance(message, P3Message) and message.tor_name == "VERSION"
    unknown = decode_frame(encode_frame(0x0777, ()))
    assert isinstance(unknown, P3Message) and unknown.tor_name == "UNKNOWN_0777"
    passing = P3Passing(
        passing_number=9,
        rtc_time_us=10,
        tran_code="FL-94890",
        extra=(P3Field(0x0E, b"\x01"), P3Field(0x42, b"")),
    )
    decoded = decode_frame(encode_passing(passing))
    assert decoded == passing
    assert isinstance(decoded, P3Passing) and decoded.transponder_key == "FL-94890"


def test_frame_cut_short_and_stream_ending_mid_frame() -> None:
    good = bytes.fromhex(FIRST_STATUS)
    stream = P3StreamDecoder()
    records = stream.feed(good[:12] + good + good[:9])
    assert isinstance(records[0], P3Error)
    assert records[0].reason == "frame cut short by a new frame"
    assert records[0].raw == good[:12]
    assert isinstance(records[1], P3Status)
    assert len(records) == 2
    tail = stream.flush()
    assert tail == [P3Error(raw=good[:9], reason="stream ended inside a frame")]
    assert stream.flush() == []


def test_hex_capture_keeps_bad_lines() -> None:
    text = f"{FIRST_STATUS}\nnot hex at all\n\n{FIRST_STATUS[:-2]}\n{FIRST_STATUS}\n"
    records = list(read_hex_capture(text.encode()))
    assert [type(r).__name__ for r in records] == ["P3Status", "P3Error", "P3Error", "P3Status"]
    assert records[1] == P3Error(raw=b"not hex at all", reason="line is not hexadecimal")
    assert records[2].reason == "frame cut short by a new frame"


def test_runaway_frame_is_dropped_to_bound_memory() -> None:
    deframer = P3Deframer()
    out = deframer.feed(bytes((SOR,)) + bytes(2 * 0xFFFF))
    assert len(out) == 1 and isinstance(out[0], P3Error)
    assert out[0].reason == "frame longer than any valid frame"
    assert deframer.feed(bytes.fromhex(FIRST_STATUS)) == [bytes.fromhex(FIRST_STATUS)]


def test_encoder_rejects_what_the_wire_cannot_carry() -> None:
    with pytest.raises(ValueError):
        encode_frame(TOR_PASSING, [P3Field(0x01, bytes(256))])
    with pytest.raises(OverflowError):
        encode_passing(P3Passing(passing_number=2**32, rtc_time_us=0, transponder=1))


# ---------------------------------------------------------------------------- properties

# Values rich in 0x8d-0x8f bytes, so escaping is exercised often.
_escapey = st.sampled_from([0x8D, 0x8E, 0x8F, 0x8D8E, 0x8F8F8D8E])
u16 = st.one_of(_escapey.filter(lambda v: v < 2**16), st.integers(0, 2**16 - 1))
u32 = st.one_of(_escapey, st.integers(0, 2**32 - 1))
u64 = st.one_of(_escapey, st.integers(0, 2**64 - 1))
unknown_fields = st.lists(
    st.builds(
        P3Field,
        st.integers(0x40, 0x7F),
        st.binary(max_size=12),
    ),
    max_size=3,
).map(tuple)

passings = st.builds(
    P3Passing,
    passing_number=u32,
    rtc_time_us=u64,
    transponder=st.one_of(u32, st.none()),
    tran_code=st.one_of(st.none(), st.text(st.characters(max_codepoint=255), max_size=10)),
    strength=st.one_of(st.none(), u16),
    hits=st.one_of(st.none(), u16),
    flags=st.one_of(st.none(), u16),
    utc_time_us=st.one_of(st.none(), u64),
    decoder_id=st.one_of(st.none(), u32),
    version=st.sampled_from([1, 2]),
    frame_flags=u16,
    extra=unknown_fields,
).filter(lambda p: p.transponder is not None or p.tran_code is not None)

statuses = st.builds(
    P3Status,
    noise=st.one_of(st.none(), u16),
    gps=st.one_of(st.none(), st.integers(0, 255)),
    temperature=st.one_of(st.none(), u16),
    satellites=st.one_of(st.none(), st.integers(0, 255)),
    loop_triggers=st.one_of(st.none(), u16),
    input_voltage=st.one_of(st.none(), st.integers(0, 255)),
    decoder_id=st.one_of(st.none(), u32),
    version=st.sampled_from([1, 2]),
    frame_flags=u16,
    extra=unknown_fields,
)


@settings(max_examples=300)
@given(record=st.one_of(passings, statuses))
def test_encode_decode_round_trip(record: P3Passing | P3Status) -> None:
    wire = encode(record)
    assert wire[0] == SOR and wire[-1] == EOR
    assert EOR not in wire[1:-1] and SOR not in wire[1:-1]
    assert decode_frame(wire) == record
    # The same frames survive any chunking of a stream that holds them.
    assert list(parse_stream([wire[:3], wire[3:] + wire])) == [record, record]


@settings(max_examples=300)
@given(data=st.binary(max_size=400), cuts=st.lists(st.integers(0, 400), max_size=6))
def test_random_bytes_never_raise_and_nothing_is_lost(data: bytes, cuts: list[int]) -> None:
    bounds = sorted({0, len(data), *(c for c in cuts if c <= len(data))})
    chunks = [data[a:b] for a, b in pairwise(bounds)]
    deframer = P3Deframer()
    pieces = [item for chunk in chunks for item in deframer.feed(chunk)] + deframer.flush()
    # The deframer partitions the stream: every byte is in exactly one frame or error.
    assert b"".join(p.raw if isinstance(p, P3Error) else p for p in pieces) == data
    records = list(parse_stream(chunks))
    assert len(records) == len(pieces)
    kinds = (P3Passing, P3Status, P3Message, P3Error)
    assert all(isinstance(r, kinds) for r in records)
    assert isinstance(decode_frame(data), kinds)


@settings(max_examples=300)
@given(record=st.one_of(passings, statuses), data=st.data())
def test_any_single_byte_change_is_caught(record: P3Passing | P3Status, data) -> None:
    """A changed byte of a frame never decodes as a record: the CRC (or header checks)
    catch every single-byte error."""
    wire = encode(record)
    frame = bytearray(wire[:1] + unescape(wire[1:-1]) + wire[-1:])
    index = data.draw(st.integers(1, len(frame) - 2))
    frame[index] = data.draw(st.integers(0, 255).filter(lambda b: b != frame[index]))
    mutated = bytes((SOR,)) + escape(bytes(frame[1:-1])) + bytes((EOR,))
    assert isinstance(decode_frame(mutated), P3Error)


@settings(max_examples=200)
@given(record=st.one_of(passings, statuses), data=st.data())
def test_mutated_wire_bytes_never_raise(record: P3Passing | P3Status, data) -> None:
    wire = bytearray(encode(record))
    for _ in range(data.draw(st.integers(1, 4))):
        wire[data.draw(st.integers(0, len(wire) - 1))] = data.draw(st.integers(0, 255))
    list(parse_stream([bytes(wire)]))
    decode_frame(bytes(wire), check_crc=False)


def test_a_relayed_frame_decodes_from_its_hex(amb_lines: list[str]) -> None:
    """The relay forwards each frame as received, in hex: every captured line decodes alone."""
    records = [decode_hex_frame(line) for line in amb_lines]
    assert Counter(type(r).__name__ for r in records) == {"P3Status": 1304, "P3Passing": 84}
    passing = decode_hex_frame(FIRST_PASSING)
    assert isinstance(passing, P3Passing) and passing.transponder == 5691251
    assert decode_hex_frame(FIRST_PASSING.upper()) == passing
    not_hex = decode_hex_frame("8e02zz")
    assert isinstance(not_hex, P3Error) and not_hex.reason == "not hexadecimal"
    cut = decode_hex_frame(FIRST_PASSING[:-2])
    assert isinstance(cut, P3Error) and "end of record" in cut.reason
