"""InfluxDB line protocol: parse a request body into points, and print points back.

``measurement[,tag=value…] field=value[,field=value…] [timestamp]``, one point per line.
Parsing is all or nothing, as InfluxDB does it: the first bad line raises
:class:`LineProtocolError` naming its (1-based) line number, and nothing of the body is kept.

Lines without a backslash or a double quote (nearly all telemetry) take a fast path of plain
``str.split``; the others are scanned character by character for escapes and quoted strings.
On the fast path, a line whose series key and field names and kinds are those of its series'
last line (a logger sends the same channels every time) is read by one regex match and a
conversion function made for that shape; any line that does not match exactly goes the
general way, so what is refused, and why, does not change.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import NamedTuple

MAX_STRING_BYTES = 64 * 1024
INT_MIN, INT_MAX = -(2**63), 2**63 - 1
UINT_MAX = 2**64 - 1

# nanoseconds per unit of each precision InfluxDB takes (v2 names and the v1 short ones)
PRECISIONS: dict[str, int] = {
    "ns": 1,
    "n": 1,
    "us": 1_000,
    "u": 1_000,
    "µ": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}

TRUE = frozenset({"t", "T", "true", "True", "TRUE"})
FALSE = frozenset({"f", "F", "false", "False", "FALSE"})
_FLOAT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_INT = re.compile(r"[+-]?\d+")


class Unsigned(int):
    """An unsigned integer field (``12u``), kept apart from a signed one (``12i``)."""

    __slots__ = ()


FieldValue = float | int | bool | str


class Point(NamedTuple):  # a tuple: made by the thousand per request, cheaply
    measurement: str
    tags: tuple[tuple[str, str], ...]  # sorted by key
    fields: dict[str, FieldValue]
    time_ns: int | None  # None: the server's clock at arrival


class LineProtocolError(ValueError):
    def __init__(self, line: int, reason: str, text: str = "") -> None:
        snippet = text if len(text) <= 80 else text[:77] + "..."
        message = f"line {line}: {reason}" + (f": '{snippet}'" if snippet else "")
        super().__init__(message)
        self.line = line
        self.reason = reason
        self.message = message


class _Bad(Exception):
    """A reason a line is refused; parse() adds the line number."""


def precision_ns(precision: str | None) -> int:
    """Nanoseconds per timestamp unit; ``ns`` when none is given."""
    if not precision:
        return 1
    try:
        return PRECISIONS[precision]
    except KeyError:
        raise ValueError(
            f"precision must be one of {', '.join(sorted(set(PRECISIONS)))}, not {precision!r}"
        ) from None


def parse(
    body: str | bytes, precision: str | None = "ns", *, default_time_ns: int | None = None
) -> list[Point]:
    """Every point of a body, or LineProtocolError for the first line that is not one."""
    scale = precision_ns(precision)
    if isinstance(body, bytes):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = body[: exc.start].count(b"\n") + 1
            raise LineProtocolError(line, "invalid UTF-8") from None
    plain = "\\" not in body and '"' not in body  # then no line needs the slow path
    points: list[Point] = []
    keys: dict[str, _Series] = {}
    for number, raw in enumerate(body.split("\n"), start=1):
        line = raw.strip(" \t\r")
        if not line or line[0] == "#":
            continue
        try:
            if plain or ("\\" not in line and '"' not in line):
                point = _split(line, scale, keys)
            else:
                point = _scan(line, scale)
        except _Bad as exc:
            raise LineProtocolError(number, str(exc), line) from None
        if point.time_ns is None and default_time_ns is not None:
            point = Point(point.measurement, point.tags, point.fields, default_time_ns)
        points.append(point)
    return points


# --- the fast path: no escapes, no strings -----------------------------------------------------


class _Series:
    """A series key read once per body, with the shape of its last line's fields: a regex that
    matches ``fields[ timestamp]`` of a line of that shape (names literal, each value's kind
    fixed) and what turns each captured value into its field value."""

    __slots__ = ("measurement", "shape", "tags")

    def __init__(self, measurement: str, tags: tuple[tuple[str, str], ...]) -> None:
        self.measurement = measurement
        self.tags = tags
        self.shape: _Shape | None = None


class _Shape(NamedTuple):
    pattern: re.Pattern[str]
    # the match -> (fields, timestamp text or None); made for the shape, see _shape()
    build: Callable[[re.Match[str]], tuple[dict[str, FieldValue], str | None]]


# A value of each kind that is certainly valid once matched: no float can overflow (at most 200
# digits before the point, a 2-digit exponent), no integer leave its range. Anything else misses
# and goes the general way, which names the fault.
_KIND_PATTERNS: dict[type, str] = {
    float: r"([+-]?(?:[0-9]{1,200}\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]{1,2})?)",
    int: r"([+-]?[0-9]{1,18})i",
    Unsigned: r"([0-9]{1,19})u",
    bool: r"(t|T|true|True|TRUE|f|F|false|False|FALSE)",
}
_STAMP_PATTERN = r"(?: ([+-]?[0-9]{1,19}))?"
_KIND_CODE = {float: "float({})", int: "int({})", Unsigned: "Unsigned(int({}))", bool: "BOOL[{}]"}
_BOOL = {**dict.fromkeys(TRUE, True), **dict.fromkeys(FALSE, False)}
_SHAPES: dict[tuple[tuple[str, type], ...], _Shape] = {}  # shared across bodies, bounded
_MAX_SHAPES = 1024


def _shape(fields: dict[str, FieldValue]) -> _Shape | None:
    """The fast reader of lines whose fields have these names and kinds in this order."""
    kinds = tuple((name, type(value)) for name, value in fields.items())
    shape = _SHAPES.get(kinds)
    if shape is None:
        if any(kind not in _KIND_PATTERNS for _, kind in kinds) or len(_SHAPES) >= _MAX_SHAPES:
            return None
        pattern = ",".join(f"{re.escape(name)}={_KIND_PATTERNS[kind]}" for name, kind in kinds)
        # one generated function per shape: a dict display of literal keys and direct
        # conversions is about twice as fast as zip()-ing names with converted values
        items = ", ".join(
            f"{name!r}: {_KIND_CODE[kind].format(f'g[{i}]')}"
            for i, (name, kind) in enumerate(kinds)
        )
        code = f"def build(m):\n    g = m.groups()\n    return {{{items}}}, g[{len(kinds)}]\n"
        scope: dict[str, object] = {"Unsigned": Unsigned, "BOOL": _BOOL}
        exec(code, scope)  # the names enter as repr() literals only
        shape = _SHAPES[kinds] = _Shape(re.compile(pattern + _STAMP_PATTERN), scope["build"])  # type: ignore[arg-type]
    return shape


def _split(line: str, scale: int, keys: dict[str, _Series]) -> Point:
    key, _, rest = line.partition(" ")
    series = keys.get(key)
    if series is not None and (shape := series.shape) is not None:
        # the fast way: a line shaped like the series' last one is one regex match
        match = shape.pattern.fullmatch(rest)
        if match is not None:
            fields, stamp = shape.build(match)
            if stamp is None:
                return Point(series.measurement, series.tags, fields, None)
            time_ns = int(stamp) * scale
            if INT_MIN <= time_ns <= INT_MAX:
                return Point(series.measurement, series.tags, fields, time_ns)
    parts = line.split(" ")
    if len(parts) != 3 and (len(parts) != 2 or not parts[1]):
        parts = [part for part in parts if part]
        if len(parts) < 2:
            raise _Bad("missing fields")
        if len(parts) > 3:
            raise _Bad("unexpected text after the timestamp")
    series = keys.get(parts[0])
    if series is None:  # each series key is read once per body
        series = keys[parts[0]] = _Series(*_series(parts[0]))
    fields = _fields(parts[1])
    if len(parts) == 3:
        stamp = parts[2]
        time_ns = (
            int(stamp) * scale if stamp.isdigit() and len(stamp) < 19 else _timestamp(stamp, scale)
        )
    else:
        time_ns = None
    series.shape = _shape(fields)
    return Point(series.measurement, series.tags, fields, time_ns)


def _series(key: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    names = key.split(",")
    measurement = names[0]
    _check_measurement(measurement)
    tags: list[tuple[str, str]] = []
    for pair in names[1:]:
        name, eq, value = pair.partition("=")
        if not eq or "=" in value:
            raise _Bad(f"tag {pair!r} is not key=value")
        tags.append(_tag(name, value))
    return measurement, _sorted(tags)


_BOOLEANS = {"t": True, "T": True, "true": True, "True": True, "TRUE": True}
_BOOLEANS |= {"f": False, "F": False, "false": False, "False": False, "FALSE": False}
_DIGITS = frozenset("0123456789.")


def _fields(text: str) -> dict[str, FieldValue]:
    """Fields without strings: each value's kind is plain from its last character. Anything
    float() or int() would take that line protocol does not (``1_0``, ``nan``) is sent to
    ``_value``, which says what is wrong."""
    fields: dict[str, FieldValue] = {}
    for pair in text.split(","):
        name, eq, value = pair.partition("=")
        if not eq or not name or name[0] == "_" or not value or "=" in value or "_" in value:
            if not eq or "=" in value:
                raise _Bad(f"field {pair!r} is not key=value")
            _check_name(name, "field key")
            fields[name] = _value(value, name)
            continue
        last = value[-1]
        if last in _DIGITS and value.isascii():
            try:
                number = float(value)
            except ValueError:
                number = math.nan
            if not math.isfinite(number):
                fields[name] = _value(value, name)  # raises, naming the field
            fields[name] = number
        elif last == "i" and value[value[0] == "-" : -1].isdigit() and value.isascii():
            whole = int(value[:-1])
            if len(value) > 19 and not INT_MIN <= whole <= INT_MAX:
                raise _Bad(f"field {name!r}: integer out of range")
            fields[name] = whole
        else:
            fields[name] = _value(value, name)
    return fields


# --- the slow path: escapes and quoted strings -------------------------------------------------


def _scan(line: str, scale: int) -> Point:
    n = len(line)
    i = 0

    def name_until(stops: str, escapable: str) -> tuple[str, int]:
        nonlocal i
        out: list[str] = []
        while i < n:
            c = line[i]
            if c == "\\" and i + 1 < n and line[i + 1] in escapable:
                out.append(line[i + 1])
                i += 2
                continue
            if c in stops:
                break
            out.append(c)
            i += 1
        return "".join(out), i

    measurement, _ = name_until(", ", ", \\")
    _check_measurement(measurement)
    tags: list[tuple[str, str]] = []
    while i < n and line[i] == ",":
        i += 1
        key, _ = name_until("=, ", ",= \\")
        if i >= n or line[i] != "=":
            raise _Bad(f"tag {key!r} has no value")
        i += 1
        value, _ = name_until(", ", ",= \\")
        tags.append(_tag(key, value))
    if i >= n or line[i] != " ":
        raise _Bad("missing fields")
    while i < n and line[i] == " ":
        i += 1
    fields: dict[str, FieldValue] = {}
    while True:
        key, _ = name_until("= ,", ",= \\")
        _check_name(key, "field key")
        if i >= n or line[i] != "=":
            raise _Bad(f"field {key!r} has no value")
        i += 1
        if i < n and line[i] == '"':
            i += 1
            out: list[str] = []
            while True:
                if i >= n:
                    raise _Bad(f"field {key!r}: unterminated string")
                c = line[i]
                if c == "\\" and i + 1 < n and line[i + 1] in '"\\':
                    out.append(line[i + 1])
                    i += 2
                    continue
                if c == '"':
                    i += 1
                    break
                out.append(c)
                i += 1
            text = "".join(out)
            if len(text.encode()) > MAX_STRING_BYTES:
                raise _Bad(f"field {key!r}: string longer than {MAX_STRING_BYTES} bytes")
            fields[key] = text
        else:
            start = i
            while i < n and line[i] not in ", ":
                i += 1
            fields[key] = _value(line[start:i], key)
        if i < n and line[i] == ",":
            i += 1
            continue
        break
    time_ns = None
    rest = line[i:].strip(" \t")
    if rest:
        if " " in rest:
            raise _Bad("unexpected text after the timestamp")
        time_ns = _timestamp(rest, scale)
    return Point(measurement, _sorted(tags), fields, time_ns)


# --- shared checks -------------------------------------------------------------------------------


def _check_measurement(name: str) -> None:
    if not name:
        raise _Bad("missing measurement")


def _check_name(name: str, what: str) -> None:
    if not name:
        raise _Bad(f"empty {what}")
    if name[0] == "_":
        raise _Bad(f"{what} {name!r} starts with '_' (reserved)")


def _tag(key: str, value: str) -> tuple[str, str]:
    _check_name(key, "tag key")
    if not value:
        raise _Bad(f"tag {key!r} has an empty value")
    return key, value


def _sorted(tags: list[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    if len(tags) < 2:
        return tuple(tags)
    merged = dict(tags)  # a repeated tag key: the last one counts
    return tuple(sorted(merged.items()))


def _value(text: str, key: str) -> FieldValue:
    if not text:
        raise _Bad(f"field {key!r} has no value")
    last = text[-1]
    if last == "i" and _INT.fullmatch(text, 0, len(text) - 1):
        number = int(text[:-1])
        if not INT_MIN <= number <= INT_MAX:
            raise _Bad(f"field {key!r}: integer out of range")
        return number
    if last == "u" and text[0] != "-" and _INT.fullmatch(text, 0, len(text) - 1):
        number = int(text[:-1])
        if number > UINT_MAX:
            raise _Bad(f"field {key!r}: unsigned integer out of range")
        return Unsigned(number)
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    if _FLOAT.fullmatch(text):
        number = float(text)
        if math.isfinite(number):
            return number
        raise _Bad(f"field {key!r}: {text} is not a finite number")
    raise _Bad(f"field {key!r}: invalid value {text!r}")


def _timestamp(text: str, scale: int) -> int:
    if not _INT.fullmatch(text):
        raise _Bad(f"invalid timestamp {text!r}")
    value = int(text) * scale
    if not INT_MIN <= value <= INT_MAX:
        raise _Bad(f"timestamp {text} out of range")
    return value


# --- printing ----------------------------------------------------------------------------------


def _escape(text: str, chars: str) -> str:
    if "\\" in text:
        text = text.replace("\\", "\\\\")
    for c in chars:
        if c in text:
            text = text.replace(c, "\\" + c)
    return text


def format_value(value: FieldValue, *, unsigned: bool = True) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Unsigned):
        if unsigned:
            return f"{int(value)}u"
        return f"{int(value)}i" if value <= INT_MAX else repr(float(value))
    if isinstance(value, int):
        return f"{value}i"
    if isinstance(value, float):
        return repr(value)
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def format_point(point: Point, *, unsigned: bool = True) -> str:
    """One line in nanosecond precision (``unsigned=False``: ``u`` fields as ``i``, for 1.x)."""
    head = _escape(point.measurement, ", ")
    for key, value in point.tags:
        head += f",{_escape(key, ',= ')}={_escape(value, ',= ')}"
    body = ",".join(
        f"{_escape(key, ',= ')}={format_value(value, unsigned=unsigned)}"
        for key, value in point.fields.items()
    )
    line = f"{head} {body}"
    return line if point.time_ns is None else f"{line} {point.time_ns}"
