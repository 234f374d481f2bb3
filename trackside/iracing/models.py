"""iRacing tables: a member's connection, the pending OAuth starts, synced sessions and their
participants. Tokens and verifiers are stored sealed (``iracing.crypto``), never in clear."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trackside.store.base import Base, UTCDateTime, utcnow


class IracingAccount(Base):
    """One trackside user's link to one iRacing member."""

    __tablename__ = "iracing_accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), unique=True, index=True
    )
    cust_id: Mapped[int] = mapped_column(BigInteger)
    display_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    access_token: Mapped[str] = mapped_column(Text)  # sealed
    refresh_token: Mapped[str | None] = mapped_column(Text, nullable=True)  # sealed
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    refresh_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    scope: Mapped[str | None] = mapped_column(String(200), nullable=True)
    needs_reconnect: Mapped[bool] = mapped_column(Boolean, default=False)
    connected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)


class IracingAuthState(Base):
    """A started connect: the state's digest, whose it is, the sealed PKCE verifier and the
    digest of the browser binding; used once, or dropped after it expires."""

    __tablename__ = "iracing_auth_states"

    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    verifier: Mapped[str] = mapped_column(Text)  # sealed
    browser_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class IracingSession(Base):
    """A subsession a user synced (each user keeps their own copy)."""

    __tablename__ = "iracing_sessions"
    __table_args__ = (UniqueConstraint("user_id", "subsession_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    subsession_id: Mapped[int] = mapped_column(BigInteger)
    session_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    session_type: Mapped[str] = mapped_column(String(20))  # race, practice, qualifying
    kind: Mapped[str] = mapped_column(String(20))  # league or hosted
    league_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    league_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    season_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    session_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    track_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    car_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    start_time: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    end_time: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    synced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    participants: Mapped[list[IracingParticipant]] = relationship(
        back_populates="session", cascade="all, delete-orphan", lazy="selectin"
    )


class IracingParticipant(Base):
    """A driver's result in a synced session, in trackside units (seconds, 1-based)."""

    __tablename__ = "iracing_participants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("iracing_sessions.id", ondelete="CASCADE"), index=True
    )
    cust_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    team_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    team_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    display_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    car_number: Mapped[str | None] = mapped_column(String(20), nullable=True)
    car_class: Mapped[str | None] = mapped_column(String(200), nullable=True)
    laps_completed: Mapped[int | None] = mapped_column(Integer, nullable=True)
    best_lap_time: Mapped[float | None] = mapped_column(Float, nullable=True)
    incidents: Mapped[int | None] = mapped_column(Integer, nullable=True)
    finish_position: Mapped[int | None] = mapped_column(Integer, nullable=True)
    starting_position: Mapped[int | None] = mapped_column(Integer, nullable=True)
    total_laps: Mapped[int | None] = mapped_column(Integer, nullable=True)
    session: Mapped[IracingSession] = relationship(back_populates="participants")
