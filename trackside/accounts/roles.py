"""Who may do what: roles, the principal behind a request, and every access rule in one place.

Routes never test roles themselves; ``api/deps.py`` asks the functions here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal


class Role(StrEnum):
    ADMIN = "admin"
    ORGANIZER = "organizer"  # per organization
    OFFICIAL = "official"  # timing / race control, per event (no event = every event)
    JUDGE = "judge"
    TEAM = "team"
    VIEWER = "viewer"


TELEMETRY_MIN_LEVEL = 1
TELEMETRY_MAX_LEVEL = 5
TELEMETRY_WRITE_LEVEL = 5  # as the telemetry platform defines it: new users 1, writers 5


class ScopeError(ValueError):
    """A role given with a scope it cannot have, or without the one it needs."""


def check_scope(role: Role, organization_id: int | None, event_id: int | None) -> None:
    if role is Role.ORGANIZER:
        if organization_id is None:
            raise ScopeError("the organizer role needs an organization")
        if event_id is not None:
            raise ScopeError("the organizer role is per organization, not per event")
    elif role is Role.ADMIN:
        if organization_id is not None or event_id is not None:
            raise ScopeError("the admin role takes no organization or event")
    elif organization_id is not None:
        raise ScopeError(f"the {role} role is per event, not per organization")


@dataclass(frozen=True, slots=True)
class Grant:
    role: Role
    organization_id: int | None = None
    event_id: int | None = None


@dataclass(frozen=True, slots=True)
class Principal:
    """The account or machine client a valid token names, with its grants as stored now."""

    kind: Literal["user", "client"]
    id: int
    name: str
    grants: tuple[Grant, ...] = ()
    telemetry_level: int = TELEMETRY_MIN_LEVEL

    @property
    def is_user(self) -> bool:
        return self.kind == "user"

    @property
    def is_admin(self) -> bool:
        return any(g.role is Role.ADMIN for g in self.grants)

    def role_names(self) -> list[str]:
        names = {g.role.value for g in self.grants} | {Role.VIEWER.value}
        return sorted(names)

    def organizes(self, organization_id: int) -> bool:
        return any(
            g.role is Role.ORGANIZER and g.organization_id == organization_id for g in self.grants
        )

    def holds_for_event(self, role: Role, event_id: int) -> bool:
        return any(g.role is role and g.event_id in (None, event_id) for g in self.grants)

    def bound_to_event(self, event_id: int) -> bool:
        return any(g.event_id == event_id for g in self.grants)


@dataclass(frozen=True, slots=True)
class EventScope:
    """What access rules need to know about an event."""

    id: int
    organization_id: int
    visibility: str


# The rules. Each answers one question; api/deps.py turns a False into 403.


def can_read_event(p: Principal, event: EventScope) -> bool:
    return (
        event.visibility == "public"
        or p.is_admin
        or p.organizes(event.organization_id)
        or p.bound_to_event(event.id)
        or p.holds_for_event(Role.OFFICIAL, event.id)
    )


def can_manage_organization(p: Principal, organization_id: int) -> bool:
    return p.is_admin or p.organizes(organization_id)


def can_create_organization(p: Principal) -> bool:
    return p.is_admin


def can_manage_event(p: Principal, event: EventScope) -> bool:
    return can_manage_organization(p, event.organization_id)


def can_run_event(p: Principal, event: EventScope) -> bool:
    """Sessions, classes and entries: the organizers, and the event's officials."""
    return can_manage_event(p, event) or p.holds_for_event(Role.OFFICIAL, event.id)


def can_read_live(p: Principal | None, event: EventScope) -> bool:
    """Live timing of public events is for everyone, signed in or not."""
    if event.visibility == "public":
        return True
    return p is not None and can_read_event(p, event)


def can_relay(p: Principal, event: EventScope) -> bool:
    """Send timing records: the event's officials (a relay's client has that role)."""
    return p.is_admin or p.holds_for_event(Role.OFFICIAL, event.id)


def can_administer(p: Principal) -> bool:
    return p.is_admin


def can_write_telemetry(p: Principal) -> bool:
    return p.telemetry_level >= TELEMETRY_WRITE_LEVEL
