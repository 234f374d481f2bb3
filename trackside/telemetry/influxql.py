"""The InfluxQL subset that Grafana's InfluxDB data source and the ``influxdb`` client send.

Parsing only (no I/O): ``parse(text, now_ns)`` turns ``;``-separated statements into
:class:`Select`, :class:`Show` or :class:`CreateDatabase`, or raises :class:`QueryError`.

    SELECT mean("speed"), max(rpm) AS top FROM "car"
      WHERE "car" = '7' AND time >= now() - 1h AND time < 1733349600000ms
      GROUP BY time(1s), "car" fill(none) LIMIT 100
    SELECT speed, rpm FROM car WHERE time > '2024-12-04T21:00:00Z'
    SHOW DATABASES | SHOW MEASUREMENTS | SHOW FIELD KEYS [FROM m] | SHOW TAG KEYS [FROM m]
    SHOW TAG VALUES [FROM m] WITH KEY = "car"
    CREATE DATABASE "name"
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

FUNCTIONS = ("mean", "min", "max", "last", "count")
UNIT_NS = {
    "ns": 1,
    "u": 1_000,
    "µ": 1_000,
    "us": 1_000,
    "ms": 1_000_000,
    "s": 10**9,
    "m": 60 * 10**9,
    "h": 3600 * 10**9,
    "d": 86400 * 10**9,
    "w": 7 * 86400 * 10**9,
}
FAR_FUTURE = 2**62

TOKEN = re.compile(
    r"""\s*(?:
        (?P<duration>\d+(?:ns|us|ms|u|µ|s|m|h|d|w)\b)
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<qident>"(?:[^"\\]|\\.)*")
      | (?P<string>'(?:[^'\\]|\\.)*')
      | (?P<ident>[A-Za-z_][A-Za-z0-9_.]*)
      | (?P<op>>=|<=|!=|=~|!~|<>|[=<>(),;*+\-])
    )""",
    re.VERBOSE,
)


class QueryError(ValueError):
    """A statement outside the subset or malformed; the message says what was expected."""


@dataclass(frozen=True, slots=True)
class Call:
    function: str | None  # None: the raw field
    field: str
    alias: str


@dataclass(slots=True)
class Select:
    calls: list[Call]
    measurement: str
    tags: list[tuple[str, str]] = field(default_factory=list)
    start_ns: int | None = None
    stop_ns: int | None = None  # exclusive
    every_ns: int | None = None
    group_by: list[str] = field(default_factory=list)
    fill: str = "null"  # null | none
    limit: int | None = None

    @property
    def aggregated(self) -> bool:
        return self.calls[0].function is not None


@dataclass(frozen=True, slots=True)
class Show:
    what: str  # databases | measurements | field keys | tag keys | tag values
    measurement: str | None = None
    key: str | None = None


@dataclass(frozen=True, slots=True)
class CreateDatabase:
    name: str


Statement = Select | Show | CreateDatabase


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise QueryError(f"unexpected text at {position}: {text[position : position + 20]!r}")
        kind = match.lastgroup or "op"
        value = match.group(kind)
        if kind == "qident":
            kind, value = "ident", re.sub(r"\\(.)", r"\1", value[1:-1])
        elif kind == "string":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        out.append((kind, value))
        position = match.end()
    return out


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]], now_ns: int) -> None:
        self.tokens = tokens
        self.i = 0
        self.now_ns = now_ns

    def peek(self, offset: int = 0) -> tuple[str, str]:
        j = self.i + offset
        return self.tokens[j] if j < len(self.tokens) else ("end", "")

    def word(self, *words: str) -> bool:
        kind, value = self.peek()
        return kind == "ident" and value.lower() in words

    def take(self) -> tuple[str, str]:
        token = self.peek()
        self.i += 1
        return token

    def expect_word(self, word: str) -> None:
        if not self.word(word):
            raise QueryError(f"expected {word.upper()}, found {self.peek()[1]!r}")
        self.i += 1

    def expect_op(self, op: str) -> None:
        if self.peek() != ("op", op):
            raise QueryError(f"expected {op!r}, found {self.peek()[1]!r}")
        self.i += 1

    def ident(self, what: str) -> str:
        kind, value = self.take()
        if kind != "ident":
            raise QueryError(f"expected {what}, found {value!r}")
        return value

    # --- statements ------------------------------------------------------------------------------

    def statements(self) -> list[Statement]:
        out: list[Statement] = []
        while self.peek()[0] != "end":
            if self.peek() == ("op", ";"):
                self.i += 1
                continue
            out.append(self.statement())
            if self.peek()[0] != "end":
                self.expect_op(";")
        if not out:
            raise QueryError("empty query")
        return out

    def statement(self) -> Statement:
        if self.word("select"):
            self.i += 1
            return self.select()
        if self.word("show"):
            self.i += 1
            return self.show()
        if self.word("create"):
            self.i += 1
            self.expect_word("database")
            return CreateDatabase(self.ident("a database name"))
        raise QueryError(
            f"only SELECT, SHOW and CREATE DATABASE are served, not {self.peek()[1]!r}"
        )

    def show(self) -> Show:
        if self.word("databases"):
            self.i += 1
            return Show("databases")
        if self.word("measurements"):
            self.i += 1
            self._skip_limit()
            return Show("measurements")
        if self.word("field", "tag"):
            kind = self.take()[1].lower()
            if kind == "tag" and self.word("values"):
                self.i += 1
                measurement = self._from()
                self.expect_word("with")
                self.expect_word("key")
                self.expect_op("=")
                key = self.ident("a tag key")
                self._skip_where_and_limit()
                return Show("tag values", measurement, key)
            self.expect_word("keys")
            measurement = self._from()
            self._skip_limit()
            return Show(f"{kind} keys", measurement)
        raise QueryError(f"SHOW {self.peek()[1]!r} is not served")

    def _from(self) -> str | None:
        if self.word("from"):
            self.i += 1
            return self.ident("a measurement")
        return None

    def _skip_limit(self) -> None:
        if self.word("limit"):
            self.i += 2

    def _skip_where_and_limit(self) -> None:
        while self.peek()[0] != "end" and self.peek() != ("op", ";"):
            self.i += 1

    def select(self) -> Select:
        calls = [self.call()]
        while self.peek() == ("op", ","):
            self.i += 1
            calls.append(self.call())
        if len({c.function is None for c in calls}) > 1:
            raise QueryError("mixing aggregate functions and raw fields is not supported")
        self.expect_word("from")
        query = Select(calls, self.ident("a measurement"))
        if self.word("where"):
            self.i += 1
            self.where(query)
        if self.word("group"):
            self.i += 1
            self.expect_word("by")
            self.group(query)
        if self.word("fill"):
            self.i += 1
            self.expect_op("(")
            how = self.take()[1].lower()
            if how not in ("null", "none"):
                raise QueryError("fill(null) and fill(none) are served")
            query.fill = how
            self.expect_op(")")
        if self.word("order"):
            self.i += 1
            self.expect_word("by")
            self.expect_word("time")
            if self.word("asc"):
                self.i += 1
            elif self.word("desc"):
                raise QueryError("ORDER BY time DESC is not served")
        if self.word("limit"):
            self.i += 1
            kind, value = self.take()
            if kind != "number" or not value.isdigit():
                raise QueryError("LIMIT takes a whole number")
            query.limit = int(value)
        if self.word("tz"):
            raise QueryError("tz() is not served (times are UTC)")
        if query.every_ns is not None and not query.aggregated:
            raise QueryError("GROUP BY time() needs an aggregate function")
        return query

    def call(self) -> Call:
        if self.peek() == ("op", "*"):
            self.i += 1
            return Call(None, "*", "*")
        name = self.ident("a field or function")
        if self.peek() == ("op", "("):
            function = name.lower()
            if function not in FUNCTIONS:
                raise QueryError(f"function {name}() is not served ({', '.join(FUNCTIONS)})")
            self.i += 1
            target = self.ident("a field")
            self.expect_op(")")
            return Call(function, target, self._alias(function))
        return Call(None, name, self._alias(name))

    def _alias(self, default: str) -> str:
        if self.word("as"):
            self.i += 1
            return self.ident("an alias")
        return default

    def where(self, query: Select) -> None:
        while True:
            self.condition(query)
            if self.word("and"):
                self.i += 1
                continue
            if self.word("or"):
                raise QueryError("OR in WHERE is not served")
            return

    def condition(self, query: Select) -> None:
        depth = 0
        while self.peek() == ("op", "("):
            self.i += 1
            depth += 1
        name = self.ident("a tag or time")
        kind, op = self.take()
        if kind != "op" or op not in ("=", ">", ">=", "<", "<="):
            raise QueryError(f"operator {op!r} is not served (=, <, <=, >, >=)")
        if name.lower() == "time":
            moment = self.time_expr()
            if op in (">", ">="):
                start = moment + (1 if op == ">" else 0)
                query.start_ns = max(query.start_ns or start, start)
            elif op in ("<", "<="):
                stop = moment + (1 if op == "<=" else 0)
                query.stop_ns = min(query.stop_ns or stop, stop)
            else:
                query.start_ns, query.stop_ns = moment, moment + 1
        else:
            if op != "=":
                raise QueryError(f"tags compare with =, not {op!r}")
            kind, value = self.take()
            if kind not in ("string", "ident", "number"):
                raise QueryError(f"tag {name!r} compares with a quoted value")
            query.tags.append((name, value))
        for _ in range(depth):
            self.expect_op(")")

    def time_expr(self) -> int:
        value = self.time_term()
        while self.peek() in (("op", "-"), ("op", "+")):
            sign = -1 if self.take()[1] == "-" else 1
            kind, text = self.take()
            if kind != "duration":
                raise QueryError(f"expected a duration after now(), found {text!r}")
            value += sign * duration_ns(text)
        return value

    def time_term(self) -> int:
        kind, value = self.take()
        if kind == "ident" and value.lower() == "now":
            self.expect_op("(")
            self.expect_op(")")
            return self.now_ns
        if kind == "string":
            try:
                moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                raise QueryError(f"{value!r} is not an RFC 3339 time") from None
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=datetime.now().astimezone().tzinfo).astimezone()
            return int(moment.timestamp()) * 10**9 + moment.microsecond * 1000
        if kind == "duration":  # an epoch with a unit: 1733346000000ms
            return duration_ns(value)
        if kind == "number" and value.lstrip("-").isdigit():
            return int(value)
        raise QueryError(f"expected a time (now(), '…', or an epoch), found {value!r}")

    def group(self, query: Select) -> None:
        while True:
            if self.word("time"):
                self.i += 1
                self.expect_op("(")
                kind, text = self.take()
                if kind != "duration":
                    raise QueryError(f"time() takes a duration, not {text!r}")
                query.every_ns = duration_ns(text)
                self.expect_op(")")
            elif self.peek() == ("op", "*"):
                raise QueryError("GROUP BY * is not served; name the tags")
            else:
                query.group_by.append(self.ident("a tag key"))
            if self.peek() != ("op", ","):
                return
            self.i += 1


def duration_ns(text: str) -> int:
    match = re.fullmatch(r"(\d+)(ns|us|ms|u|µ|s|m|h|d|w)", text)
    if match is None:
        raise QueryError(f"{text!r} is not a duration")
    return int(match.group(1)) * UNIT_NS[match.group(2)]


def parse(text: str, now_ns: int) -> list[Statement]:
    return _Parser(_tokens(text), now_ns).statements()
