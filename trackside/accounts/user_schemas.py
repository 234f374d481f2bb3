"""User administration on the wire (admins only)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from trackside.accounts.roles import Role


class RoleChangeIn(BaseModel):
    role: Role
    organizationId: Annotated[int, Field(ge=1)] | None = None
    eventId: Annotated[int, Field(ge=1)] | None = None


class LevelIn(BaseModel):
    telemetryLevel: Annotated[int, Field(ge=1, le=5, strict=True)]
