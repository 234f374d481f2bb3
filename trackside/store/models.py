"""Every table in one import, for Alembic and for code that needs the whole schema."""

from trackside.store.accounts import EmailToken, RefreshToken, RoleGrant, User
from trackside.store.base import Base
from trackside.store.clients import MachineClient, SigningKey
from trackside.store.events import Entry, Event, Organization, RaceClass, RaceSession
from trackside.store.racelog import EventLive, LogRecord, RelaySource, SessionResult

__all__ = [
    "Base",
    "EmailToken",
    "Entry",
    "Event",
    "EventLive",
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
