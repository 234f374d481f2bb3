"""The statements of a relay append (``events.ingest.place``), run in its transaction.

The placing logic is written once, over ``LogWrites``; two ways run its statements:

- ``CoreWrites``: SQLAlchemy Core statements, built once. PostgreSQL (where the updates that end
  an append are one round trip), and SQLite through the async engine (aiosqlite: an append in
  the transaction of a caller's ``db`` that wrote first).
- ``SqliteWrites``: plain SQL and parameter tuples on the SQLite writer's ``sqlite3``
  connection (``store.writer``), inside the transaction it began. A small append there costs a
  third of the CPU it costs through Core, whose execution machinery (compiled cache lookups,
  parameter processing, result setup, events) around five statements was most of it; a big
  batch no longer processes each row's instant.

``SqliteWrites`` stores every value exactly as Core does: instants through the column type's
own SQLite bind processor (``YYYY-MM-DD HH:MM:SS.ffffff`` in UTC), computed once per append;
booleans as 0/1. ``tests/events/test_logwrites.py`` compares what both write.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, Protocol

from sqlalchemy import (
    BigInteger,
    Connection,
    Dialect,
    Executable,
    and_,
    bindparam,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from trackside.events.lognotices import NOTICE, payload, send
from trackside.events.racelog import EventLive, LogRecord, RelaySource

# The log's length; the source's acked_seq and stored_seq (None: the source has no row yet).
Tail = tuple[int, int | None, int | None]
# One record to store: seq, received_at_ms, type, data, position (None: not placed yet).
Row = tuple[int, int, str, str, int | None]


@dataclass(frozen=True, slots=True)
class Finish:
    """What ends an append: the source's row, the log's length, the notice."""

    event_id: int
    source: str
    new_source: bool  # insert the source's row, else update it
    acked: int
    stored: int
    now: datetime
    length: int | None  # the log's length when the append grew it, else None
    last_record: bool  # records were stored: the event's last_record_at is now
    tell: bool  # records were placed: tell the node that leads (PostgreSQL)
    node: str


class LogWrites(Protocol):
    def tail(self, event_id: int, source: str) -> Tail | None:
        """None: the event has no ``event_live`` row yet."""

    def new_live(self, event_id: int) -> None:
        """The event's ``event_live`` row, unless it is there (made by another node meanwhile:
        then once that node's transaction ends)."""

    def stored_after(self, event_id: int, source: str, before: int) -> set[int]:
        """The source's stored seqs above ``before``."""

    def store(self, event_id: int, source: str, rows: list[Row], now: datetime) -> None: ...

    def place_stored(self, event_id: int, source: str, before: int, after: int, base: int) -> None:
        """The source's records in ``(before, after]`` stored earlier join the order after
        ``base``."""

    def finish(self, end: Finish) -> None: ...


_LIVE = EventLive.__table__
_SOURCES = RelaySource.__table__
_LOG = LogRecord.__table__


@cache
def instants(dialect: Dialect) -> Callable[[datetime], Any]:
    """How the dialect's SQLAlchemy stores the instant columns (all ``UTCDateTime``): what
    ``SqliteWrites`` stores them as, given the SQLite dialect."""
    kind = _LOG.c.stored_at.type
    for column in (_SOURCES.c.last_seen_at, _LIVE.c.last_record_at):
        assert type(column.type) is type(kind)
    process = kind.dialect_impl(dialect).bind_processor(dialect)
    assert process is not None
    return process


class SqliteWrites:
    """The statements as SQL text on a ``sqlite3`` connection (its statement cache keeps them
    prepared)."""

    def __init__(self, db: sqlite3.Connection, instant: Callable[[datetime], Any]) -> None:
        self._db = db
        self._instant = instant

    def tail(self, event_id: int, source: str) -> Tail | None:
        return self._db.execute(_SQL_READ, (source, event_id)).fetchone()  # type: ignore[no-any-return]

    def new_live(self, event_id: int) -> None:
        self._db.execute(_SQL_NEW_LIVE, (event_id,))

    def stored_after(self, event_id: int, source: str, before: int) -> set[int]:
        return {seq for (seq,) in self._db.execute(_SQL_STORED_AFTER, (event_id, source, before))}

    def store(self, event_id: int, source: str, rows: list[Row], now: datetime) -> None:
        at = self._instant(now)
        self._db.executemany(
            _SQL_STORE,
            [
                (event_id, source, seq, received_at_ms, kind, data, at, position)
                for seq, received_at_ms, kind, data, position in rows
            ],
        )

    def place_stored(self, event_id: int, source: str, before: int, after: int, base: int) -> None:
        self._db.execute(_SQL_PLACE_STORED, (base, before, event_id, source, before, after))

    def finish(self, end: Finish) -> None:
        # One node on SQLite: no notice to send.
        now = self._instant(end.now)
        if end.new_source:
            new = (end.event_id, end.source, end.acked, end.stored, now)
            self._db.execute(_SQL_NEW_SOURCE, new)
        else:
            seen = (end.acked, end.stored, now, end.event_id, end.source)
            self._db.execute(_SQL_SEEN_SOURCE, seen)
        if end.length is not None and end.last_record:
            self._db.execute(_SQL_LENGTH_AND_LAST, (end.length, now, end.event_id))
        elif end.length is not None:
            self._db.execute(_SQL_LENGTH, (end.length, end.event_id))


# SQLite takes the write lock at BEGIN IMMEDIATE: no FOR UPDATE.
_SQL_READ = (
    "SELECT event_live.log_length, relay_sources.acked_seq, relay_sources.stored_seq"
    " FROM event_live LEFT OUTER JOIN relay_sources"
    " ON relay_sources.event_id = event_live.event_id AND relay_sources.source = ?"
    " WHERE event_live.event_id = ?"
)
_SQL_NEW_LIVE = (
    "INSERT INTO event_live (event_id, live, log_length) VALUES (?, 0, 0)"
    " ON CONFLICT (event_id) DO NOTHING"
)
_SQL_STORED_AFTER = "SELECT seq FROM event_log WHERE event_id = ? AND source = ? AND seq > ?"
_SQL_STORE = (
    "INSERT INTO event_log (event_id, source, seq, received_at_ms, type, data, stored_at,"
    " position) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_SQL_PLACE_STORED = (
    "UPDATE event_log SET position = ? + seq - ?"
    " WHERE event_id = ? AND source = ? AND seq > ? AND seq <= ?"
)
_SQL_NEW_SOURCE = (
    "INSERT INTO relay_sources (event_id, source, acked_seq, stored_seq, last_seen_at)"
    " VALUES (?, ?, ?, ?, ?)"
)
_SQL_SEEN_SOURCE = (
    "UPDATE relay_sources SET acked_seq = ?, stored_seq = ?, last_seen_at = ?"
    " WHERE event_id = ? AND source = ?"
)
_SQL_LENGTH = "UPDATE event_live SET log_length = ? WHERE event_id = ?"
_SQL_LENGTH_AND_LAST = "UPDATE event_live SET log_length = ?, last_record_at = ? WHERE event_id = ?"


class CoreWrites:
    """The statements as SQLAlchemy Core on the caller's connection."""

    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def tail(self, event_id: int, source: str) -> Tail | None:
        row = self._c.execute(_READ, {"e": event_id, "s": source}).first()
        return None if row is None else (row.log_length, row.acked_seq, row.stored_seq)

    def new_live(self, event_id: int) -> None:
        self._c.execute(_new_live(self._c.dialect.name), {"e": event_id})

    def stored_after(self, event_id: int, source: str, before: int) -> set[int]:
        key = {"e": event_id, "s": source, "before": before}
        return set(self._c.scalars(_STORED_AFTER, key).all())

    def store(self, event_id: int, source: str, rows: list[Row], now: datetime) -> None:
        self._c.execute(
            _STORE,
            [
                {
                    "event_id": event_id,
                    "source": source,
                    "seq": seq,
                    "received_at_ms": received_at_ms,
                    "type": kind,
                    "data": data,
                    "stored_at": now,
                    "position": position,
                }
                for seq, received_at_ms, kind, data, position in rows
            ],
        )

    def place_stored(self, event_id: int, source: str, before: int, after: int, base: int) -> None:
        key = {"e": event_id, "s": source, "before": before, "after": after, "base": base}
        self._c.execute(_PLACE_STORED, key)

    def finish(self, end: Finish) -> None:
        seen = {
            "e": end.event_id,
            "s": end.source,
            "acked": end.acked,
            "stored": end.stored,
            "now": end.now,
        }
        if end.length is not None and self._c.dialect.name == "postgresql":
            # The source's row, the log's length and the notice (to the node that leads, if
            # not this one) in one round trip.
            finish = _pg_finish(end.new_source, end.last_record, end.tell)
            notice = payload(end.event_id, end.node)
            self._c.execute(finish, {**seen, "length": end.length, "notice": notice})
            return
        self._c.execute(_NEW_SOURCE if end.new_source else _SEEN_SOURCE, seen)
        if end.length is not None:
            length = {"e": end.event_id, "length": end.length, "now": end.now}
            self._c.execute(_LENGTH_AND_LAST if end.last_record else _LENGTH, length)
        if end.tell:
            send(self._c, end.event_id, end.node)  # the node that leads, if not this one


# Built once: an append pays for executing its statements, not for making them. Parameters:
# ``e`` the event, ``s`` the source.
_THIS_SOURCE = and_(_SOURCES.c.event_id == bindparam("e"), _SOURCES.c.source == bindparam("s"))
_THIS_LOG = and_(_LOG.c.event_id == bindparam("e"), _LOG.c.source == bindparam("s"))
_READ = (
    select(_LIVE.c.log_length, _SOURCES.c.acked_seq, _SOURCES.c.stored_seq)
    .select_from(
        _LIVE.outerjoin(
            _SOURCES,
            and_(_SOURCES.c.event_id == _LIVE.c.event_id, _SOURCES.c.source == bindparam("s")),
        )
    )
    .where(_LIVE.c.event_id == bindparam("e"))
    .with_for_update(of=_LIVE)
)
_STORED_AFTER = select(_LOG.c.seq).where(_THIS_LOG, _LOG.c.seq > bindparam("before"))
_STORE = insert(_LOG)
_PLACE_STORED = (
    update(_LOG)
    .where(_THIS_LOG, _LOG.c.seq > bindparam("before"), _LOG.c.seq <= bindparam("after"))
    .values(position=bindparam("base", type_=BigInteger) + _LOG.c.seq - bindparam("before"))
)
_SOURCE_VALUES = {
    "acked_seq": bindparam("acked"),
    "stored_seq": bindparam("stored"),
    "last_seen_at": bindparam("now", type_=_SOURCES.c.last_seen_at.type),
}
_NEW_SOURCE = insert(_SOURCES).values(
    event_id=bindparam("e"), source=bindparam("s"), **_SOURCE_VALUES
)
_SEEN_SOURCE = update(_SOURCES).where(_THIS_SOURCE).values(**_SOURCE_VALUES)
_GROWN = update(_LIVE).where(_LIVE.c.event_id == bindparam("e"))
_LENGTH = _GROWN.values(log_length=bindparam("length"))
_LENGTH_AND_LAST = _GROWN.values(
    log_length=bindparam("length"),
    last_record_at=bindparam("now", type_=_LIVE.c.last_record_at.type),
)


@cache
def _new_live(dialect: str) -> Executable:
    """The ``event_live`` row, doing nothing if it is there (both dialects say it alike)."""
    made = postgresql.insert if dialect == "postgresql" else sqlite.insert
    values = {"event_id": bindparam("e"), "live": False, "log_length": 0}
    return made(_LIVE).values(**values).on_conflict_do_nothing(index_elements=["event_id"])


@cache
def _pg_finish(new_source: bool, last_record: bool, tell: bool) -> Executable:
    """PostgreSQL: the updates that end an append that grew the log, as one statement (DML in
    ``WITH`` runs once, referenced or not)."""
    source = (_NEW_SOURCE if new_source else _SEEN_SOURCE).cte("source")
    live = (_LENGTH_AND_LAST if last_record else _LENGTH).cte("live")
    return select(NOTICE if tell else literal(None)).add_cte(source, live)
