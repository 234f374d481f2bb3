"""User administration on the wire (admins only)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, Strict

from trackside.services.roles import Role


class RoleChangeIn(BaseModel):
    model_config = ConfigDict(strict=True)
    role: Annotated[Role, Strict(False)]
    organizationId: Annotated[int, Field(ge=1)] | None = None
    eventId: Annotated[int, Field(ge=1)] | None = None


class LevelIn(BaseModel):
    model_config = ConfigDict(strict=True)
    telemetryLevel: Annotated[int, Field(ge=1, le=5, strict=True)]
