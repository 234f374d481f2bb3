"""MYLAPS/AMB P3 decoder protocol: byte stream in, typed records out, never an exception.

Follows ``../shared/reference/protocols.md`` §a. A decoder streams frames over TCP with no
regard for read boundaries, so ``P3StreamDecoder`` accepts arbitrary chunks: a raw ``0x8E``
always starts a frame and a raw ``0x8F`` always ends one, because both are escaped inside
frames. Each frame is unescaped (only ``0x8D`` is an escape prefix), then its length, CRC and
TLV body are checked. Anything that fails becomes a ``P3Error`` carrying the bytes and the
reason, so a bad frame is counted and reported while the rest of the stream still decodes.

The encoder builds the same frames (CRC and escaping included) for tests and fake decoders.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from trackside.feeds.p3_records import (
    DEFAULT_VERSION,
    TOR_PASSING,
    TOR_STATUS,
    P3Error,
    P3Field,
    P3Message,
    P3Passing,
    P3Record,
    P3Status,
)

SOR = 0x8E
EOR = 0x8F
ESC = 0x8D
ESCAPE_OFFSET = 0x20
_ESCAPED = frozenset({ESC, SOR, EOR})
HEADER_SIZE = 10  # SOR, version, length (2), CRC (2), flags (2), TOR (2)
MIN_FRAME = HEADER_SIZE + 1  # header and EOR, empty body
MAX_FRAME = 0xFFFF  # the length field is a u16
# The longest a frame can be on the wire: every byte after SOR escaped.
MAX_WIRE_FRAME = 2 * MAX_FRAME
VERSIONS = frozenset({0x01, 0x02})

# PASSING tags (value little-endian) and the width the encoder writes them with.
PASSING_NUMBER = 0x01
TRANSPONDER = 0x03
RTC_TIME = 0x04
STRENGTH = 0x05
HITS = 0x06
FLAGS = 0x08
TRAN_CODE = 0x0A
UTC_TIME = 0x10
# STATUS tags.
NOISE = 0x01
GPS = 0x06
TEMPERATURE = 0x07
SATELLITES = 0x0A
LOOP_TRIGGERS = 0x0B
INPUT_VOLTAGE = 0x0C
# General tags, valid in every TOR.
DECODER_ID = 0x81

_PASSING_INTS: dict[int, tuple[str, int]] = {
    PASSING_NUMBER: ("passing_number", 4),
    TRANSPONDER: ("transponder", 4),
    RTC_TIME: ("rtc_time_us", 8),
    STRENGTH: ("strength", 2),
    HITS: ("hits", 2),
    FLAGS: ("flags", 2),
    UTC_TIME: ("utc_time_us", 8),
    DECODER_ID: ("decoder_id", 4),
}
# In the order the captured decoder sends them, so a decoded capture re-encodes byte for byte.
_STATUS_INTS: dict[int, tuple[str, int]] = {
    NOISE: ("noise", 2),
    TEMPERATURE: ("temperature", 2),
    INPUT_VOLTAGE: ("input_voltage", 1),
    GPS: ("gps", 1),
    SATELLITES: ("satellites", 1),
    LOOP_TRIGGERS: ("loop_triggers", 2),
    DECODER_ID: ("decoder_id", 4),
}
MAX_INT_BYTES = 8


class FrameError(ValueError):
    """Why bytes are not a valid frame; becomes the reason of a P3Error."""


def _crc_table() -> tuple[int, ...]:
    table = []
    for i in range(256):
        crc = i << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
        table.append(crc)
    return tuple(table)


_CRC_TABLE = _crc_table()


def crc16(frame: bytes) -> int:
    """The P3 CRC of an unescaped frame (bytes 4-5, the CRC field, count as zero).

    Not textbook CRC-16/CCITT: the byte is XORed in after the table step (reference §a).
    """
    crc = 0xFFFF
    table = _CRC_TABLE
    for i, byte in enumerate(frame):
        if i == 4 or i == 5:
            byte = 0
        crc = table[crc >> 8] ^ ((crc << 8) & 0xFFFF) ^ byte
    return crc


def escape(body: bytes) -> bytes:
    """Escape the bytes between SOR and EOR: ``0x8D``-``0x8F`` become ``0x8D, byte + 0x20``."""
    if not _ESCAPED.intersection(body):
        return body
    out = bytearray()
    for byte in body:
        if byte in _ESCAPED:
            out += bytes((ESC, byte + ESCAPE_OFFSET))
        else:
            out.append(byte)
    return bytes(out)


def unescape(body: bytes) -> bytes:
    """Undo ``escape``; a raw SOR/EOR or a dangling escape is a FrameError."""
    if SOR in body or EOR in body:
        raise FrameError("unescaped start or end of record inside a frame")
    if ESC not in body:
        return body
    out = bytearray()
    it = iter(body)
    for byte in it:
        if byte == ESC:
            nxt = next(it, None)
            if nxt is None or nxt < ESCAPE_OFFSET:
                raise FrameError("escape byte 0x8d not followed by an escaped byte")
            out.append(nxt - ESCAPE_OFFSET)
        else:
            out.append(byte)
    return bytes(out)


def _u16(frame: bytes, offset: int) -> int:
    return frame[offset] | (frame[offset + 1] << 8)


def _tlv(body: bytes) -> tuple[P3Field, ...]:
    fields = []
    i, end = 0, len(body)
    while i < end:
        if i + 2 > end:
            raise FrameError(f"TLV item at body offset {i} has no length byte")
        size = body[i + 1]
        if i + 2 + size > end:
            raise FrameError(f"TLV item 0x{body[i]:02x} runs past the end of the frame")
        fields.append(P3Field(body[i], body[i + 2 : i + 2 + size]))
        i += 2 + size
    return tuple(fields)


def _named_ints(
    fields: tuple[P3Field, ...], names: dict[int, tuple[str, int]]
) -> tuple[dict[str, int], list[P3Field]]:
    """Split fields into named integers (first occurrence of a known tag) and the rest."""
    values: dict[str, int] = {}
    extra: list[P3Field] = []
    for item in fields:
        known = names.get(item.tag)
        if known is None or known[0] in values or not 0 < len(item.value) <= MAX_INT_BYTES:
            extra.append(item)
            continue
        value = int.from_bytes(item.value, "little")
        if value >> (8 * known[1]):  # wider than the field: kept as sent, as encode needs
            extra.append(item)
        else:
            values[known[0]] = value
    return values, extra


def _passing(fields: tuple[P3Field, ...], version: int, frame_flags: int) -> P3Passing:
    values, extra = _named_ints(fields, _PASSING_INTS)
    tran_code: str | None = None
    rest: list[P3Field] = []
    for item in extra:
        if item.tag == TRAN_CODE and tran_code is None:
            tran_code = item.value.decode("latin-1")
        else:
            rest.append(item)
    if "passing_number" not in values:
        raise FrameError("PASSING without a passing number (tag 0x01)")
    if "rtc_time_us" not in values:
        raise FrameError("PASSING without an RTC time (tag 0x04)")
    if "transponder" not in values and tran_code is None:
        raise FrameError("PASSING without a transponder (tag 0x03 or 0x0a)")
    return P3Passing(
        tran_code=tran_code,
        version=version,
        frame_flags=frame_flags,
        extra=tuple(rest),
        **values,
    )


def _status(fields: tuple[P3Field, ...], version: int, frame_flags: int) -> P3Status:
    values, extra = _named_ints(fields, _STATUS_INTS)
    return P3Status(version=version, frame_flags=frame_flags, extra=tuple(extra), **values)


def decode_frame(raw: bytes, check_crc: bool = True) -> P3Record:
    """One frame as received (SOR ... EOR, still escaped) → its record, or a P3Error.

    ``check_crc=False`` is for decoders that send ``0x0000`` without computing the CRC; a CRC of
    zero is otherwise checked like any other (it is a legitimate result, reference §a).
    """
    try:
        return _decode(raw, check_crc)
    except FrameError as exc:
        return P3Error(raw=bytes(raw), reason=str(exc))


def decode_hex_frame(text: str, check_crc: bool = True) -> P3Record:
    """One frame as the relay forwards it (the wire bytes as hex) → its record, or a P3Error."""
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        return P3Error(raw=text.encode("utf-8", "replace")[:200], reason="not hexadecimal")
    return decode_frame(raw, check_crc)


def _decode(raw: bytes, check_crc: bool) -> P3Record:
    if len(raw) < 2 or raw[0] != SOR:
        raise FrameError("no start of record (0x8e)")
    if raw[-1] != EOR:
        raise FrameError("no end of record (0x8f)")
    inner = unescape(raw[1:-1])
    frame = bytes((SOR,)) + inner + bytes((EOR,))
    if len(frame) < MIN_FRAME:
        raise FrameError(f"frame of {len(frame)} bytes is shorter than a header")
    version = frame[1]
    if version not in VERSIONS:
        raise FrameError(f"unknown protocol version 0x{version:02x}")
    length = _u16(frame, 2)
    if length != len(frame):
        raise FrameError(f"length field says {length} bytes, frame has {len(frame)}")
    if check_crc:
        stored, computed = _u16(frame, 4), crc16(frame)
        if stored != computed:
            raise FrameError(f"CRC mismatch: frame says 0x{stored:04x}, computed 0x{computed:04x}")
    frame_flags = _u16(frame, 6)
    tor = _u16(frame, 8)
    fields = _tlv(frame[HEADER_SIZE:-1])
    if tor == TOR_PASSING:
        return _passing(fields, version, frame_flags)
    if tor == TOR_STATUS:
        return _status(fields, version, frame_flags)
    return P3Message(tor=tor, fields=fields, version=version, frame_flags=frame_flags)


# ---------------------------------------------------------------------------- stream


class P3Deframer:
    """Cuts arbitrary byte chunks into wire frames (``SOR`` ... ``EOR``, still escaped).

    Bytes outside a frame, and a frame cut short by a new ``SOR``, come out as ``P3Error``.
    A frame longer than any valid frame is dropped as an error so memory stays bounded.
    """

    __slots__ = ("_pending",)

    def __init__(self) -> None:
        self._pending = b""  # a partial frame (starts with SOR) or bytes outside any frame

    def feed(self, chunk: bytes) -> list[bytes | P3Error]:
        data = self._pending + bytes(chunk)
        out: list[bytes | P3Error] = []
        pos, end = 0, len(data)
        while pos < end:
            if data[pos] != SOR:
                sor = data.find(SOR, pos)
                if sor < 0:
                    break  # outside a frame: wait for a SOR to report the stretch in one error
                out.append(P3Error(raw=data[pos:sor], reason="bytes outside a frame"))
                pos = sor
            eor = data.find(EOR, pos + 1)
            sor = data.find(SOR, pos + 1)
            if sor >= 0 and (eor < 0 or sor < eor):
                out.append(P3Error(raw=data[pos:sor], reason="frame cut short by a new frame"))
                pos = sor
                continue
            if eor < 0:
                break  # a partial frame: wait for the rest
            out.append(data[pos : eor + 1])
            pos = eor + 1
        rest = data[pos:]
        if len(rest) > MAX_WIRE_FRAME:
            inside = rest[:1] == bytes((SOR,))
            reason = "frame longer than any valid frame" if inside else "bytes outside a frame"
            out.append(P3Error(raw=rest, reason=reason))
            rest = b""
        self._pending = rest
        return out

    def flush(self) -> list[P3Error]:
        """End of stream: whatever is still held is an incomplete frame or stray bytes."""
        rest, self._pending = self._pending, b""
        if not rest:
            return []
        inside = rest[:1] == bytes((SOR,))
        reason = "stream ended inside a frame" if inside else "bytes outside a frame"
        return [P3Error(raw=rest, reason=reason)]


class P3StreamDecoder:
    """Deframes and decodes a byte stream fed in chunks of any size."""

    __slots__ = ("_deframer", "check_crc")

    def __init__(self, check_crc: bool = True) -> None:
        self._deframer = P3Deframer()
        self.check_crc = check_crc

    def feed(self, chunk: bytes) -> list[P3Record]:
        return [
            item if isinstance(item, P3Error) else decode_frame(item, self.check_crc)
            for item in self._deframer.feed(chunk)
        ]

    def flush(self) -> list[P3Record]:
        return list(self._deframer.flush())


def parse_stream(chunks: Iterable[bytes], check_crc: bool = True) -> Iterator[P3Record]:
    """Every record of a byte stream given as chunks, in order; the end flushes."""
    decoder = P3StreamDecoder(check_crc)
    for chunk in chunks:
        yield from decoder.feed(chunk)
    yield from decoder.flush()


def read_hex_capture(data: str | bytes, check_crc: bool = True) -> Iterator[P3Record]:
    """Records of a hex-per-line capture (``../shared/data/p3/amb.out``: one wire frame a line).

    A line that is not hexadecimal becomes a ``P3Error`` holding the line; the others form one
    byte stream, so a line holding half a frame or two frames still decodes.
    """
    text = data.decode("latin-1") if isinstance(data, bytes) else data
    decoder = P3StreamDecoder(check_crc)
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            chunk = bytes.fromhex(line)
        except ValueError:
            yield P3Error(raw=line.encode("latin-1", "replace"), reason="line is not hexadecimal")
            continue
        yield from decoder.feed(chunk)
    yield from decoder.flush()


# ---------------------------------------------------------------------------- encoder


def encode_frame(
    tor: int,
    fields: Iterable[P3Field],
    version: int = DEFAULT_VERSION,
    frame_flags: int = 0,
) -> bytes:
    """A complete wire frame: header, TLV body, length, CRC, escaping."""
    body = bytearray()
    for item in fields:
        if len(item.value) > 0xFF:
            raise ValueError(f"TLV value of tag 0x{item.tag:02x} longer than 255 bytes")
        body += bytes((item.tag, len(item.value))) + item.value
    length = HEADER_SIZE + len(body) + 1
    if length > MAX_FRAME:
        raise ValueError(f"frame of {length} bytes does not fit the length field")
    frame = bytearray((SOR, version))
    frame += length.to_bytes(2, "little") + b"\x00\x00"
    frame += frame_flags.to_bytes(2, "little") + tor.to_bytes(2, "little")
    frame += body
    frame.append(EOR)
    frame[4:6] = crc16(bytes(frame)).to_bytes(2, "little")
    return bytes((SOR,)) + escape(bytes(frame[1:-1])) + bytes((EOR,))


def _int_fields(record: object, names: dict[int, tuple[str, int]]) -> list[P3Field]:
    out = []
    for tag, (name, width) in names.items():
        value = getattr(record, name)
        if value is not None:
            out.append(P3Field(tag, value.to_bytes(width, "little")))
    return out


def encode_passing(passing: P3Passing) -> bytes:
    """A PASSING frame; known fields first in the decoder's order, ``extra`` after them."""
    fields = _int_fields(passing, _PASSING_INTS)
    if passing.tran_code is not None:
        fields.insert(2, P3Field(TRAN_CODE, passing.tran_code.encode("latin-1")))
    return encode_frame(
        TOR_PASSING, [*fields, *passing.extra], passing.version, passing.frame_flags
    )


def encode_status(status: P3Status) -> bytes:
    """A STATUS frame; known fields first, ``extra`` after them."""
    fields = _int_fields(status, _STATUS_INTS)
    return encode_frame(TOR_STATUS, [*fields, *status.extra], status.version, status.frame_flags)


def encode(record: P3Passing | P3Status | P3Message) -> bytes:
    """The wire frame of any record the decoder produces (errors have no frame)."""
    if isinstance(record, P3Passing):
        return encode_passing(record)
    if isinstance(record, P3Status):
        return encode_status(record)
    return encode_frame(record.tor, record.fields, record.version, record.frame_flags)
