"""Organizations, events, sessions, classes and entries on the wire."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints, field_validator

from trackside.api.schemas.base import Instant, Lax, Name, Patch, ShortName, Text, Wire, WireIn

Id = Annotated[int, Field(ge=1, le=2**31 - 1)]
CarNumber = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=16)]
Transponder = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
Location = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]


class Visibility(StrEnum):
    PUBLIC = "public"
    PRIVATE = "private"


class SessionType(StrEnum):
    PRACTICE = "practice"
    QUALIFYING = "qualifying"
    RACE = "race"


def _session_type(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


# --- organizations --------------------------------------------------------------------------


class OrganizationOut(Wire):
    id: int
    name: str
    description: str
    created_date: Instant = Field(validation_alias="created_at")


class OrganizationIn(WireIn):
    name: Name
    description: Text = ""


class OrganizationPatch(Patch):
    name: Name = None  # type: ignore[assignment]
    description: Text = None  # type: ignore[assignment]


# --- events ---------------------------------------------------------------------------------


class EventOut(Wire):
    id: int
    name: str
    start_date: Instant
    end_date: Instant
    location: str
    organization_id: int
    visibility: Visibility


class EventIn(WireIn):
    name: Name
    start_date: Instant
    end_date: Instant
    location: Location = ""
    organization_id: Id
    visibility: Annotated[Visibility, Lax] = Visibility.PUBLIC


class EventPatch(Patch):
    name: Name = None  # type: ignore[assignment]
    start_date: Instant = None  # type: ignore[assignment]
    end_date: Instant = None  # type: ignore[assignment]
    location: Location = None  # type: ignore[assignment]
    organization_id: Id = None  # type: ignore[assignment]
    visibility: Annotated[Visibility, Lax] = None  # type: ignore[assignment]


# --- sessions -------------------------------------------------------------------------------


class SessionOut(Wire):
    id: int
    event_id: int
    name: str
    start_time: Instant
    end_time: Instant | None
    type: SessionType


class SessionIn(WireIn):
    name: Name
    type: Annotated[SessionType, Lax]
    start_time: Instant
    end_time: Instant | None = None

    _type = field_validator("type", mode="before")(_session_type)


class SessionPatch(Patch):
    name: Name = None  # type: ignore[assignment]
    type: Annotated[SessionType, Lax] = None  # type: ignore[assignment]
    start_time: Instant = None  # type: ignore[assignment]
    end_time: Instant | None = None

    _type = field_validator("type", mode="before")(_session_type)


# --- classes --------------------------------------------------------------------------------


class ClassOut(Wire):
    id: int
    event_id: int
    name: str


class ClassIn(WireIn):
    name: ShortName


class ClassPatch(Patch):
    name: ShortName = None  # type: ignore[assignment]


# --- entries --------------------------------------------------------------------------------


class EntryOut(Wire):
    id: int
    event_id: int
    number: str
    driver_name: str
    team_name: str
    class_id: int | None
    transponder: str | None


class EntryIn(WireIn):
    number: CarNumber
    driver_name: Name
    team_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""
    class_id: Id | None = None
    transponder: Transponder | None = None


class EntryPatch(Patch):
    number: CarNumber = None  # type: ignore[assignment]
    driver_name: Name = None  # type: ignore[assignment]
    team_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = None  # type: ignore[assignment]
    class_id: Id | None = None
    transponder: Transponder | None = None
