"""Every table in one import, for Alembic and for code that needs the whole schema."""

from trackside.store.accounts import EmailToken, RefreshToken, RoleGrant, User
from trackside.store.base import Base
from trackside.store.clients import MachineClient, SigningKey
from trackside.store.events import Entry, Event, Organization, RaceClass, RaceSession
from trackside.store.racelog import EventLive, LogRecord, RelaySource, SessionResult
from trackside.store.track import ControlLogSource, EventLoop

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
