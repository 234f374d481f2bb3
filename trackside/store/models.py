"""Every table in one import, for Alembic and for code that needs the whole schema."""

from trackside.accounts.models import (
    EmailToken,
    MachineClient,
    RefreshToken,
    RoleGrant,
    SigningKey,
    User,
)
from trackside.controllog.models import ControlLogSource
from trackside.events.models import Entry, Event, EventClass, EventLoop, Organization, RaceSession
from trackside.events.racelog import EventLive, LogRecord, RelaySource, SessionResult
from trackside.store.base import Base
from trackside.telemetry.models import TelemetryBucket, TelemetryToken

__all__ = [
    "Base",
    "ControlLogSource",
    "EmailToken",
    "Entry",
    "Event",
    "EventClass",
    "EventLive",
    "EventLoop",
    "LogRecord",
    "MachineClient",
    "Organization",
    "RaceSession",
    "RefreshToken",
    "RelaySource",
    "RoleGrant",
    "SessionResult",
    "SigningKey",
    "TelemetryBucket",
    "TelemetryToken",
    "User",
]
