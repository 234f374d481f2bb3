"""The race log: every record a relay sent for an event, kept forever, in the order scored.

A record is stored once per ``(event, source, seq)``; re-sending it is a no-op. ``position``
is the record's place in the order the engine applies the log: it is given when the record
joins its source's contiguous run of sequence numbers (a record after a gap waits, unplaced,
until the gap is filled), so a restart replays exactly what the live processor applied.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from trackside.store.base import Base, UTCDateTime, utcnow


class LogRecord(Base):
    __tablename__ = "event_log"
    __table_args__ = (
        UniqueConstraint("event_id", "source", "seq", name="uq_event_log_event_id_source_seq"),
        Index("ix_event_log_event_id_position", "event_id", "position"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(100))
    seq: Mapped[int] = mapped_column(BigInteger)
    received_at_ms: Mapped[int] = mapped_column(BigInteger)
    type: Mapped[str] = mapped_column(String(32))
    data: Mapped[str] = mapped_column(Text)
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    position: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class RelaySource(Base):
    """One input stream of one event: how far its sequence numbers are stored without a gap."""

    __tablename__ = "relay_sources"

    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    source: Mapped[str] = mapped_column(String(100), primary_key=True)
    acked_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    # The highest seq stored (>= acked_seq): above it only while a gap is open, so an append
    # asks which seqs beyond acked_seq are stored only then.
    stored_seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EventLive(Base):
    """An event's live state: is a processor scoring it, and how long its log is."""

    __tablename__ = "event_live"

    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    live: Mapped[bool] = mapped_column(Boolean, default=False)
    log_length: Mapped[int] = mapped_column(BigInteger, default=0)
    last_record_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class SessionResult(Base):
    """The classification of one session of an event's log, kept when it changes state."""

    __tablename__ = "session_results"
    __table_args__ = (
        UniqueConstraint("event_id", "log_index", name="uq_session_results_event_id_log_index"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), unique=True
    )
    log_index: Mapped[int] = mapped_column(Integer)  # the session's index in the live snapshot
    finished: Mapped[bool] = mapped_column(Boolean, default=False)
    data: Mapped[str] = mapped_column(Text)  # JSON: timing.results.session_result
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
