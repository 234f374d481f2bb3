"""Line protocol straight into columns, for the common body: every line of one shape.

A logger or Telegraf's batching output sends thousands of lines with the same fields in the same
order, one series key per car or host. Such a body is read by one regular expression over the
whole text (``findall``: C speed, no per-line Python) that matches a line of that shape exactly;
its captures, turned on their side, are the columns: each field's values, the times and each
line's series key. No ``Point`` is made unless someone asks for points.

What is taken is exactly what :func:`lineprotocol.parse` takes: the shape is read from the first
line by the general parser, its pattern only admits values that are certainly valid (the
parser's fast path uses the same one), and each distinct series key is checked by the parser.
A body with anything else (another shape, escapes, strings, comments, stray whitespace, a bad
line) is parsed line by line by :func:`lineprotocol.parse`, which also names the bad line.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from trackside.feeds import lineprotocol
from trackside.feeds.lineprotocol import (
    _BOOL,
    INT_MAX,
    INT_MIN,
    UINT_MAX,
    FieldValue,
    Point,
    Unsigned,
    _Bad,
    _series,
)

# One pattern per shape: ``^key fields[ stamp]$`` over the whole body. The patterns are loose
# where a conversion is strict: a float's characters, then float() (which takes exactly line
# protocol's floats among them) and a check for infinities; digits of any length, then a
# range check. A key holds no escape, quote or blank, and no comment starts with it.
_KEY = r'^([^ \t\r\n\\"#][^ \t\r\n\\"]*) '
_KINDS: dict[type, str] = {
    float: r"([-+.0-9eE]+)",
    int: r"([+-]?[0-9]+)i",
    Unsigned: r"([0-9]+)u",
    bool: r"(t|T|true|True|TRUE|f|F|false|False|FALSE)",
}
_STAMP = r"(?: ([+-]?[0-9]+))?$"
_WHOLE: dict[tuple[tuple[str, type], ...], re.Pattern[str]] = {}
_MAX_SHAPES = 1024
_INFINITIES = (math.inf, -math.inf)


class _Loose(ValueError):
    """A value the loose pattern let through that line protocol does not take."""


@dataclass(slots=True)
class Columns:
    """Parsed lines of one shape, column by column; points when iterated."""

    fields: tuple[tuple[str, type], ...]  # each field's name and kind, in line order
    keys: list[str]  # each line's series key, as written
    texts: list[tuple[str, ...]]  # per field, each line's value as written (valid for its kind)
    times: list[int | None]  # per line; None: no timestamp (set on arrival)
    series: dict[str, tuple[str, tuple[tuple[str, str], ...]]]  # key -> measurement, tags
    _values: dict[int, list[FieldValue]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.keys)

    def values(self, index: int) -> list[FieldValue]:
        """The typed values of one field (made once)."""
        found = self._values.get(index)
        if found is None:
            found = self._values[index] = _convert(self.fields[index][1], self.texts[index])
        return found

    def doubles(self, index: int) -> list[float]:
        """One field's values as doubles (booleans 1.0/0.0), as a column store keeps them."""
        kind = self.fields[index][1]
        if kind is float:
            return self.values(index)  # type: ignore[return-value]
        if kind is bool:
            return [1.0 if value else 0.0 for value in self.values(index)]
        return list(map(float, self.values(index)))  # type: ignore[arg-type]

    def fill_times(self, time_ns: int) -> None:
        """Lines sent without a timestamp take this one (the server's clock at arrival)."""
        if None in self.times:
            self.times = [time_ns if t is None else t for t in self.times]

    def __iter__(self) -> Iterator[Point]:
        names = [name for name, _ in self.fields]
        columns = [self.values(i) for i in range(len(names))]
        for n, (key, time_ns) in enumerate(zip(self.keys, self.times, strict=True)):
            measurement, tags = self.series[key]
            yield Point(
                measurement, tags, {k: c[n] for k, c in zip(names, columns, strict=True)}, time_ns
            )


Points = list[Point] | Columns


def parse(body: str | bytes, precision: str | None = "ns") -> Points:
    """The points of a body: ``Columns`` when every line has the first line's shape, else the
    parser's list of points. LineProtocolError as :func:`lineprotocol.parse` raises it."""
    scale = lineprotocol.precision_ns(precision)
    text = body
    if isinstance(body, bytes):
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return lineprotocol.parse(body, precision)  # it names the line
    assert isinstance(text, str)
    found = _columns(text, scale)
    return found if found is not None else lineprotocol.parse(text, precision)


def _convert(kind: type, texts: tuple[str, ...]) -> list[FieldValue]:
    """Values as line protocol reads them, or _Loose for one it refuses."""
    try:
        if kind is float:
            floats = list(map(float, texts))
            if _INFINITIES[0] in floats or _INFINITIES[1] in floats:
                raise _Loose("not a finite number")
            return floats  # type: ignore[return-value]
        if kind is int:
            ints = list(map(int, texts))
            if min(ints) < INT_MIN or max(ints) > INT_MAX:
                raise _Loose("integer out of range")
            return ints  # type: ignore[return-value]
        if kind is Unsigned:
            whole = list(map(int, texts))
            if max(whole) > UINT_MAX:
                raise _Loose("unsigned integer out of range")
            return list(map(Unsigned, whole))
        return list(map(_BOOL.__getitem__, texts))
    except ValueError as exc:  # float() refused it
        raise _Loose(str(exc)) from None


def _lines(text: str) -> int:
    """How many lines are not empty."""
    count = text.count("\n") + 1 - text.endswith("\n")
    if "\n\n" in text or text.startswith("\n"):
        lines = text.split("\n")
        count = len(lines) - lines.count("")
    return count


def _columns(text: str, scale: int) -> Columns | None:
    count = _lines(text)
    if not count:
        return None
    first = text.lstrip("\n").partition("\n")[0]
    try:
        heads = lineprotocol.parse(first, "ns")
    except lineprotocol.LineProtocolError:
        return None  # the parser names it, with its line number
    if not heads:
        return None  # blank or a comment
    head = heads[0]
    pattern = _whole(tuple((name, type(value)) for name, value in head.fields.items()))
    if pattern is None:
        return None
    matches = pattern.findall(text)
    if len(matches) != count:
        return None  # another shape somewhere: line by line
    width = len(head.fields)
    keys, *texts, stamps = zip(*matches, strict=True)
    series = {}
    try:
        for key in set(keys):
            series[key] = _series(key)
    except _Bad:
        return None
    if "" in stamps:
        times: list[int | None] = [int(s) * scale if s else None for s in stamps]
        stamped = [t for t in times if t is not None]
    else:
        times = stamped = list(map(int, stamps)) if scale == 1 else [int(s) * scale for s in stamps]  # type: ignore[assignment]
    if stamped and (min(stamped) < INT_MIN or max(stamped) > INT_MAX):  # type: ignore[type-var]
        return None
    assert len(texts) == width
    found = Columns(
        fields=tuple((name, type(value)) for name, value in head.fields.items()),
        keys=list(keys),
        texts=list(texts),
        times=times,
        series=series,
    )
    try:
        for index in range(width):
            found.values(index)  # checked now: a refusal is the parser's to name
    except _Loose:
        return None
    return found


def _whole(kinds: tuple[tuple[str, type], ...]) -> re.Pattern[str] | None:
    pattern = _WHOLE.get(kinds)
    if pattern is None:
        if any(kind not in _KINDS for _, kind in kinds) or len(_WHOLE) >= _MAX_SHAPES:
            return None
        fields = ",".join(f"{re.escape(name)}={_KINDS[kind]}" for name, kind in kinds)
        pattern = _WHOLE[kinds] = re.compile(_KEY + fields + _STAMP, re.MULTILINE)
    return pattern
