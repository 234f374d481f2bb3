"""Judges, competitions, teams and the time records judges send.

A competition is a manual-timing session of an event (its ``session_id`` row in the event's
sessions). What scoring needs is also appended to the event's log (``judging.records``): these
tables are the index the judges' API answers from (who judges which team, which record ids a
team already holds); the log is what the results are computed from.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from trackside.store.base import Base, UTCDateTime, utcnow

SCHEDULED, RUNNING, STOPPED = "scheduled", "running", "stopped"


class Judge(Base):
    """An account's judge profile for one event; its id is the app's ``juez_id``."""

    __tablename__ = "judges"
    __table_args__ = (UniqueConstraint("event_id", "user_id", name="uq_judges_event_id_user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Competition(Base):
    """A manual-timing session of an event: scheduled, running, stopped."""

    __tablename__ = "competitions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("sessions.id", ondelete="SET NULL"), nullable=True, index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    scheduled_start: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(16), default=SCHEDULED)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Team(Base):
    """A team of a competition (``equipo``): its bib and the judge who times it."""

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    competition_id: Mapped[int] = mapped_column(
        ForeignKey("competitions.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    number: Mapped[str] = mapped_column(String(16))
    judge_id: Mapped[int | None] = mapped_column(
        ForeignKey("judges.id", ondelete="SET NULL"), nullable=True, index=True
    )


class TimeRecord(Base):
    """One runner of a team in, as a judge sent it (``registro``); ``record_id`` is the phone's
    id for it, the idempotency key. Only counted records are kept (at most 15 a team)."""

    __tablename__ = "time_records"
    __table_args__ = (
        UniqueConstraint("team_id", "record_id", name="uq_time_records_team_id_record_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    judge_id: Mapped[int | None] = mapped_column(
        ForeignKey("judges.id", ondelete="SET NULL"), nullable=True
    )
    record_id: Mapped[str] = mapped_column(String(64))
    time_ms: Mapped[int] = mapped_column(BigInteger)
    phone_timestamp: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    voided: Mapped[bool] = mapped_column(Boolean, default=False)
