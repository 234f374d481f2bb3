"""Where an event's race-control log is and how to read it.

Configuration, not race data: the control-log source says how to fetch and read the log. The
log entries themselves live in the event's log like every other record.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from trackside.store.base import Base, UTCDateTime, utcnow


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
