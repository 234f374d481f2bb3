"""Typed records of the MYLAPS/AMB P3 decoder protocol.

Times stay as the decoder sent them: integer **microseconds** since 1970-01-01 on the decoder
clock (RTC; UTC or local depends on the decoder's setup), so a record re-encodes to the same
bytes. ``rtc_time_ms`` gives the millisecond value the timing domain works in. Raw device units
(noise, temperature, input voltage) are kept unscaled: their scale is not established
(``../shared/reference/protocols.md`` §a). Every field the parser does not name is kept in
``extra`` so nothing a decoder sends is lost.
"""

from __future__ import annotations

from dataclasses import dataclass

# Type of record (TOR) values, reference §a.
TOR_RESET = 0x0000
TOR_PASSING = 0x0001
TOR_STATUS = 0x0002
TOR_VERSION = 0x0003
TOR_RESEND = 0x0004
TOR_CLEAR_PASSING = 0x0005
TOR_ERROR = 0xFFFF

TOR_NAMES = {
    0x0000: "RESET",
    0x0001: "PASSING",
    0x0002: "STATUS",
    0x0003: "VERSION",
    0x0004: "RESEND",
    0x0005: "CLEAR_PASSING",
    0x0013: "SERVER_SETTINGS",
    0x0015: "SESSION",
    0x0016: "NETWORK_SETTINGS",
    0x0018: "WATCHDOG",
    0x0020: "PING",
    0x0024: "GET_TIME",
    0x0028: "GENERAL_SETTINGS",
    0x002D: "SIGNALS",
    0x002F: "LOOP_TRIGGER",
    0x0030: "GPS_INFO",
    0x0045: "FIRST_CONTACT",
    0x004A: "TIMELINE",
    0xFFFF: "ERROR",
}

DEFAULT_VERSION = 0x02


@dataclass(slots=True, frozen=True)
class P3Field:
    """One TLV item of a frame body, kept as sent (value bytes, little-endian)."""

    tag: int
    value: bytes


@dataclass(slots=True, frozen=True)
class P3Passing:
    """TOR ``0x0001``: a transponder crossed the decoder's loop.

    ``transponder`` is the numeric id (tag ``0x03``); ProChip rider transponders may send only a
    code string (``tran_code``, tag ``0x0A``, e.g. ``FL-94890``). The reference knows no loop-id
    tag for P3: a P3 decoder is one timing line, named by ``decoder_id``.
    """

    passing_number: int
    rtc_time_us: int
    transponder: int | None = None
    tran_code: str | None = None
    strength: int | None = None
    hits: int | None = None
    flags: int | None = None
    utc_time_us: int | None = None
    decoder_id: int | None = None
    version: int = DEFAULT_VERSION
    frame_flags: int = 0  # header bytes 6-7; 0 in every captured frame, meaning unknown
    extra: tuple[P3Field, ...] = ()

    @property
    def rtc_time_ms(self) -> int:
        """Decoder time in whole milliseconds (floor), the unit of the timing domain."""
        return self.rtc_time_us // 1000

    @property
    def transponder_key(self) -> str:
        """The transponder as entry lists write it: the number, else the ProChip code."""
        if self.transponder is not None:
            return str(self.transponder)
        return self.tran_code or ""


@dataclass(slots=True, frozen=True)
class P3Status:
    """TOR ``0x0002``: the decoder's periodic health report (raw device units)."""

    noise: int | None = None
    gps: int | None = None
    temperature: int | None = None
    satellites: int | None = None
    loop_triggers: int | None = None
    input_voltage: int | None = None  # probably 0.1 V units (capture: 118-119)
    decoder_id: int | None = None
    version: int = DEFAULT_VERSION
    frame_flags: int = 0
    extra: tuple[P3Field, ...] = ()


@dataclass(slots=True, frozen=True)
class P3Message:
    """A valid frame of any other TOR (version, resend, error, unknown ...), fields kept raw."""

    tor: int
    fields: tuple[P3Field, ...]
    version: int = DEFAULT_VERSION
    frame_flags: int = 0

    @property
    def tor_name(self) -> str:
        return TOR_NAMES.get(self.tor, f"UNKNOWN_{self.tor:04X}")


@dataclass(slots=True, frozen=True)
class P3Error:
    """Bytes that are not a valid frame: kept with the reason, never raised."""

    raw: bytes  # as received (still escaped), or the text line it came from
    reason: str


P3Record = P3Passing | P3Status | P3Message | P3Error
