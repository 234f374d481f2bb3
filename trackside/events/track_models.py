"""Track-side configuration of an event: its timing loops, and where its race-control log is.

Both are configuration, not race data: the loops say what each decoder's passings mean, the
control-log source how to fetch and read the log. The records themselves (passings, log
entries) live in the event's log like every other record.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from trackside.store.base import Base, UTCDateTime, utcnow


class EventLoop(Base):
    """One timing loop of an event: what crossing it means, and the decoder that reads it."""

    __tablename__ = "event_loops"
    __table_args__ = (UniqueConstraint("event_id", "name", name="uq_event_loops_event_id_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # order as configured
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(32))  # timing.loops.LoopKind
    decoder_id: Mapped[int] = mapped_column(BigInteger)
    loop_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class ControlLogSource(Base):
    """How an event's race-control log is read (columns, penalty rules) and, given a URL,
    polled; with the outcome of the latest poll."""

    __tablename__ = "control_log_sources"

    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    url: Mapped[str | None] = mapped_column(Text, nullable=True)
    interval_s: Mapped[float] = mapped_column(Float, default=30.0)
    columns: Mapped[str] = mapped_column(Text, default="{}")  # JSON: field -> header names
    penalty_rules: Mapped[str] = mapped_column(Text, default="[]")  # JSON: [{pattern, outcome}]
    void_statuses: Mapped[str] = mapped_column(Text, default="null")  # JSON: [status] or null
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_status: Mapped[str | None] = mapped_column(String(200), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    polls: Mapped[int] = mapped_column(BigInteger, default=0)
