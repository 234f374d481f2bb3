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
from trackside.iracing.models import (
    IracingAccount,
    IracingAuthState,
    IracingParticipant,
    IracingSession,
)
from trackside.judging.models import Competition, Judge, Team, TimeRecord
from trackside.store.base import Base
from trackside.store.leases import LeaseRow
from trackside.telemetry.models import TelemetryBucket, TelemetryToken
from trackside.tracking.models import (
    Checkpoint,
    LocationFix,
    TrackedParticipant,
    TrackingDevice,
    TrackingProfile,
    TrackingSettings,
)

__all__ = [
    "Base",
    "Checkpoint",
    "Competition",
    "ControlLogSource",
    "EmailToken",
    "Entry",
    "Event",
    "EventClass",
    "EventLive",
    "EventLoop",
    "IracingAccount",
    "IracingAuthState",
    "IracingParticipant",
    "IracingSession",
    "Judge",
    "LeaseRow",
    "LocationFix",
    "LogRecord",
    "MachineClient",
    "Organization",
    "RaceSession",
    "RefreshToken",
    "RelaySource",
    "RoleGrant",
    "SessionResult",
    "SigningKey",
    "Team",
    "TelemetryBucket",
    "TelemetryToken",
    "TimeRecord",
    "TrackedParticipant",
    "TrackingDevice",
    "TrackingProfile",
    "TrackingSettings",
    "User",
]
