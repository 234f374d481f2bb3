"""Every table in one import, for Alembic and for code that needs the whole schema."""

from trackside.accounts.client_models import MachineClient, SigningKey
from trackside.accounts.models import EmailToken, RefreshToken, RoleGrant, User
from trackside.events.models import Entry, Event, Organization, RaceClass, RaceSession
from trackside.events.racelog import EventLive, LogRecord, RelaySource, SessionResult
from trackside.events.track_models import ControlLogSource, EventLoop
from trackside.store.base import Base

__all__ = [
    "Base",
    "ControlLogSource",
    "EmailToken",
    "Entry",
    "Event",
    "EventLive",
    "EventLoop",
    "LogRecord",
    "MachineClient",
    "Organization",
    "RaceClass",
    "RaceSession",
    "RefreshToken",
    "RelaySource",
    "RoleGrant",
    "SessionResult",
    "SigningKey",
    "User",
]
