"""Organizations and what they run: events, their sessions, classes and entries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trackside.store.base import Base, UTCDateTime, utcnow


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Event(Base):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    start_date: Mapped[datetime] = mapped_column(UTCDateTime)
    end_date: Mapped[datetime] = mapped_column(UTCDateTime)
    location: Mapped[str] = mapped_column(String(200), default="")
    visibility: Mapped[str] = mapped_column(String(16), default="public")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    sessions: Mapped[list[RaceSession]] = relationship(
        back_populates="event", cascade="all, delete-orphan", passive_deletes=True
    )
    classes: Mapped[list[EventClass]] = relationship(
        back_populates="event", cascade="all, delete-orphan", passive_deletes=True
    )
    entries: Mapped[list[Entry]] = relationship(
        back_populates="event", cascade="all, delete-orphan", passive_deletes=True
    )


class RaceSession(Base):
    """A practice, qualifying or race run inside an event."""

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(16))
    start_time: Mapped[datetime] = mapped_column(UTCDateTime)
    end_time: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    event: Mapped[Event] = relationship(back_populates="sessions")


class EventClass(Base):
    """A class of an event (GT3, …); the feed's own class record is ``feeds.records.RaceClass``."""

    __tablename__ = "classes"
    __table_args__ = (UniqueConstraint("event_id", "name", name="uq_classes_event_id_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))

    event: Mapped[Event] = relationship(back_populates="classes")


class Entry(Base):
    """A car entered in an event: its number, who drives it, its class and transponder."""

    __tablename__ = "entries"
    __table_args__ = (UniqueConstraint("event_id", "number", name="uq_entries_event_id_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(16))
    driver_name: Mapped[str] = mapped_column(String(200), default="")
    team_name: Mapped[str] = mapped_column(String(200), default="")
    class_id: Mapped[int | None] = mapped_column(
        ForeignKey("classes.id", ondelete="SET NULL"), nullable=True, index=True
    )
    transponder: Mapped[str | None] = mapped_column(String(32), nullable=True)

    event: Mapped[Event] = relationship(back_populates="entries")


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
