"""Accounts and tokens on the wire, in the shapes the reference clients send and expect."""

from __future__ import annotations

from typing import Annotated

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    Strict,
    StringConstraints,
)

from trackside.accounts.models import User
from trackside.accounts.roles import Role

Username = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=3, max_length=40, pattern=r"^[A-Za-z0-9_.\-]+$"
    ),
]
Password = Annotated[str, StringConstraints(min_length=8, max_length=256)]
Secret = Annotated[str, StringConstraints(min_length=1, max_length=512)]


class RegisterIn(BaseModel):
    model_config = ConfigDict(strict=True)
    username: Username
    email: EmailStr
    password: Password


class OpenRegisterIn(BaseModel):
    """``POST /register``, the telemetry platform's shape: no e-mail address."""

    username: Username
    password: Password


class LoginIn(BaseModel):
    model_config = ConfigDict(strict=True)
    username: Annotated[str, StringConstraints(min_length=1, max_length=254)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class RefreshIn(BaseModel):
    model_config = ConfigDict(strict=True)
    refresh: Secret


class TokenPairOut(BaseModel):
    """``/auth/login`` and ``/api/token/``: SimpleJWT's ``{access, refresh}``."""

    access: str
    refresh: str
    token_type: str = "Bearer"
    expires_in: int


class BearerOut(BaseModel):
    """``/login``: the OAuth2 password-flow shape FastAPI apps return."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int
    refresh_token: str


class GrantOut(BaseModel):
    id: int
    role: str
    organizationId: int | None = None
    eventId: int | None = None


class MeOut(BaseModel):
    id: int
    username: str
    email: str | None = Field(description="null for accounts registered without one")
    emailVerified: bool
    roles: list[str]
    grants: list[GrantOut]
    telemetryLevel: int = Field(ge=1, le=5)
    level: int = Field(ge=1, le=5, description="The telemetry level again, as /me spells it.")
    createdDate: AwareDatetime

    @classmethod
    def of(cls, user: User) -> MeOut:
        grants = [
            GrantOut(id=g.id, role=g.role, organizationId=g.organization_id, eventId=g.event_id)
            for g in user.grants
        ]
        return cls(
            id=user.id,
            username=user.username,
            email=user.email if not user.email.endswith("@no-email.invalid") else None,
            emailVerified=user.email_verified_at is not None,
            roles=sorted({g.role for g in user.grants} | {"viewer"}),
            grants=grants,
            telemetryLevel=user.telemetry_level,
            level=user.telemetry_level,
            createdDate=user.created_at,
        )


class EmailIn(BaseModel):
    model_config = ConfigDict(strict=True)
    email: EmailStr


class ResetConfirmIn(BaseModel):
    model_config = ConfigDict(strict=True)
    token: Secret
    password: Password


class StatusOut(BaseModel):
    status: str
    detail: str | None = None


# User administration (admins only)


class RoleChangeIn(BaseModel):
    model_config = ConfigDict(strict=True)
    role: Annotated[Role, Strict(False)]
    organizationId: Annotated[int, Field(ge=1)] | None = None
    eventId: Annotated[int, Field(ge=1)] | None = None


class LevelIn(BaseModel):
    model_config = ConfigDict(strict=True)
    telemetryLevel: Annotated[int, Field(ge=1, le=5, strict=True)]
