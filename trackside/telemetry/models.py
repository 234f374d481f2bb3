"""Telemetry's tables in the main database: API tokens (digests only) and the bucket list.

The points themselves live in the time-series store (``store.py``), not here.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from trackside.store.base import Base, UTCDateTime, utcnow


class TelemetryToken(Base):
    """An API token a level-5 account made for its loggers; it acts as that account."""

    __tablename__ = "telemetry_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class TelemetryBucket(Base):
    """A bucket (v2) or database (v1) points were written to; made on its first write."""

    __tablename__ = "telemetry_buckets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    org: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
