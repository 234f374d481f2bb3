"""Location tracking: trackers bound to accounts, tracked participants of events, every position
fix as it arrived, an event's tracking settings and its course checkpoints.

Fixes are high-rate and not scored, so they live here, not in the event log; what scoring needs
(a checkpoint crossing) is appended to the event log as a ``checkpoint`` record.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from trackside.store.base import Base, UTCDateTime, utcnow

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit key.
FixId = BigInteger().with_variant(Integer(), "sqlite")


class TrackingDevice(Base):
    """A tracker app or device bound to an account; its token is the OwnTracks password (and the
    OsmAnd ``id`` when the device has no id of its own). Only the token's digest is kept."""

    __tablename__ = "tracking_devices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    device_id: Mapped[str | None] = mapped_column(String(100), unique=True, nullable=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TrackedParticipant(Base):
    """An account followed on an event's map: its fixes within the event's dates count there."""

    __tablename__ = "tracking_participants"
    __table_args__ = (
        UniqueConstraint("event_id", "user_id", name="uq_tracking_participants_event_id_user_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TrackingProfile(Base):
    """An account's sharing choice: while paused, nobody else sees its positions."""

    __tablename__ = "tracking_profiles"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    sharing_paused: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TrackingSettings(Base):
    """An event's tracking choices: whether its map is public, how long its fixes are kept."""

    __tablename__ = "tracking_settings"

    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    map_public: Mapped[bool] = mapped_column(Boolean, default=False)
    retention_days: Mapped[int] = mapped_column(Integer, default=30)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Checkpoint(Base):
    """One checkpoint of an event's course, in course order: a line between two points, or a
    circle (``lat1, lon1`` its centre, ``radius_m`` its radius)."""

    __tablename__ = "tracking_checkpoints"
    __table_args__ = (
        UniqueConstraint("event_id", "name", name="uq_tracking_checkpoints_event_id_name"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))  # "line" or "circle"
    lat1: Mapped[float] = mapped_column(Float)
    lon1: Mapped[float] = mapped_column(Float)
    lat2: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon2: Mapped[float | None] = mapped_column(Float, nullable=True)
    radius_m: Mapped[float | None] = mapped_column(Float, nullable=True)


class LocationFix(Base):
    """One position as a tracker reported it: the device's own time (``time``), when the server
    got it, where from (``source``: ws, rest, owntracks, osmand). ``device_key`` names the
    device within the account, so the same device and device time is stored once."""

    __tablename__ = "location_fixes"
    __table_args__ = (
        UniqueConstraint(
            "user_id", "device_key", "time", name="uq_location_fixes_user_id_device_key_time"
        ),
        Index("ix_location_fixes_user_id_time", "user_id", "time"),
        Index("ix_location_fixes_time", "time"),
    )

    id: Mapped[int] = mapped_column(FixId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    device_key: Mapped[str] = mapped_column(String(120))
    source: Mapped[str] = mapped_column(String(16))
    time: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    accuracy: Mapped[float | None] = mapped_column(Float, nullable=True)
    altitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    speed: Mapped[float | None] = mapped_column(Float, nullable=True)  # m/s
    heading: Mapped[float | None] = mapped_column(Float, nullable=True)  # degrees
    battery: Mapped[float | None] = mapped_column(Float, nullable=True)  # percent
    event_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # as the client said
    attributes: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON, tracker extras
