"""Mutations of real feed lines, driven by a ``random.Random``: hypothesis's ``st.randoms()``
in CI (shrinkable, replayable) or a seeded one in the long runs (fast, a million lines).

Each mutation is one of the ways real feeds break: a cut line, a byte flipped, a field
dropped or doubled, quotes and commas where they do not belong, another record glued on,
text in another encoding, numbers out of range.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from functools import cache
from pathlib import Path

from trackside.feeds import p3

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
NASTY = [
    '"', ",", "$", "$A", "$G,", "\x00", "\r", "\ufeff", "é", "²", "٣", "\u2028", "-", ".", ":",
    "99999999999999999999", "-1", "1e9", "NaN", "", " ", '""', "24:00:00", "99:99:99.999",
    "00:00:00.000", "0x", "\t", "\\", "'", "\U0001f3c1",
]  # fmt: skip


@cache
def rmonitor_lines() -> tuple[str, ...]:
    """Every distinct record line of the captures (headers left out)."""
    lines: set[str] = set()
    for path in sorted((DATA / "rmonitor").glob("*.log")):
        text = path.read_bytes().decode("utf-8", "replace")
        lines.update(line for line in text.splitlines() if line.startswith("$"))
    return tuple(sorted(lines))


@cache
def p3_frames() -> tuple[bytes, ...]:
    """Every distinct frame of the decoder capture, as wire bytes."""
    text = (DATA / "p3" / "amb.out").read_text()
    return tuple(sorted({bytes.fromhex(line.strip()) for line in text.splitlines() if line}))


def _token(rng: random.Random) -> str:
    if rng.random() < 0.6:
        return rng.choice(NASTY)
    return "".join(chr(rng.randrange(0x20, 0x250)) for _ in range(rng.randrange(1, 6)))


def _fields(text: str) -> list[str]:
    return text.split(",")


def _cut(text: str, rng: random.Random) -> str:
    return text[: rng.randrange(len(text) + 1)]


def _drop(text: str, rng: random.Random) -> str:
    i = rng.randrange(len(text) + 1)
    return text[:i] + text[i + rng.randrange(1, 8) :]


def _insert(text: str, rng: random.Random) -> str:
    i = rng.randrange(len(text) + 1)
    return text[:i] + _token(rng) + text[i:]


def _replace_field(text: str, rng: random.Random) -> str:
    fields = _fields(text)
    fields[rng.randrange(len(fields))] = _token(rng)
    return ",".join(fields)


def _drop_field(text: str, rng: random.Random) -> str:
    fields = _fields(text)
    del fields[rng.randrange(len(fields))]
    return ",".join(fields)


def _double_field(text: str, rng: random.Random) -> str:
    fields = _fields(text)
    i = rng.randrange(len(fields))
    fields.insert(i, fields[i])
    return ",".join(fields)


def _glue(text: str, rng: random.Random) -> str:
    other = rng.choice(rmonitor_lines())
    return text + other if rng.random() < 0.5 else _cut(text, rng) + other


def _digits(text: str, rng: random.Random) -> str:
    return "".join(
        str(rng.randrange(10)) if c.isdigit() and rng.random() < 0.3 else c for c in text
    )


TEXT_MUTATIONS: tuple[Callable[[str, random.Random], str], ...] = (
    _cut, _drop, _insert, _replace_field, _drop_field, _double_field, _glue, _digits,
)  # fmt: skip


def mutate_text(text: str, rng: random.Random) -> str:
    """One to three mutations of a line (never the line unchanged as a rule, sometimes so)."""
    for _ in range(rng.randrange(1, 4)):
        text = rng.choice(TEXT_MUTATIONS)(text, rng)
    return text


def rmonitor_line(rng: random.Random) -> str:
    return mutate_text(rng.choice(rmonitor_lines()), rng)


def _mutate_bytes(data: bytearray, rng: random.Random) -> None:
    kind = rng.randrange(4)
    i = rng.randrange(len(data) + 1)
    if kind == 0 and data:
        data[min(i, len(data) - 1)] = rng.randrange(256)
    elif kind == 1:
        data[i:i] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 6)))
    elif kind == 2:
        del data[i : i + rng.randrange(1, 6)]
    else:
        data[i:i] = bytes((rng.choice((p3.SOR, p3.EOR, p3.ESC)),))


def p3_frame(rng: random.Random) -> bytes:
    """A real frame mutated; most of the time re-sealed (length, CRC, escaping) so the
    mutation reaches the TLV decoder instead of stopping at the CRC."""
    frame = p3_frames()[rng.randrange(len(p3_frames()))]
    inner = bytearray(p3.unescape(frame[1:-1]))
    for _ in range(rng.randrange(1, 4)):
        _mutate_bytes(inner, rng)
    if rng.random() < 0.75 and len(inner) >= p3.HEADER_SIZE - 1:
        sealed = bytearray((p3.SOR,)) + inner + bytes((p3.EOR,))
        sealed[2:4] = (len(sealed) & 0xFFFF).to_bytes(2, "little")
        sealed[4:6] = p3.crc16(bytes(sealed)).to_bytes(2, "little")
        return bytes((p3.SOR,)) + p3.escape(bytes(sealed[1:-1])) + bytes((p3.EOR,))
    return bytes((p3.SOR,)) + bytes(inner) + bytes((p3.EOR,))
