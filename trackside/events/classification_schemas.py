"""The official classification on the wire: a correction sent, the classification read."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints

from trackside.api.schemas.base import Wire

Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
CarNumber = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]
ClassName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Kind = Literal["laps", "time_penalty", "disqualify", "exclude", "class"]


class Problem(BaseModel):
    """Every refusal: what is wrong, and for bad input each field with why."""

    detail: str
    errors: list[dict[str, Any]] | None = None


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The error statuses a route really returns, each with the JSON error body."""
    why = {
        401: "No token, or a bad or expired one",
        403: "The caller may not do this here",
        404: "No such event, session, timing results or correction",
        409: "Nothing changed since the official revision",
        422: "Bad input; ``errors`` names each field",
    }
    return {code: {"model": Problem, "description": why[code]} for code in codes}


class CorrectionIn(Wire):
    """One correction: ``laps`` for ``laps``, ``ms`` for ``time_penalty``, ``class`` for
    ``class``; a reason always."""

    car: CarNumber
    kind: Kind
    laps: int | None = Field(None, ge=-10_000, le=10_000)
    ms: int | None = Field(None, ge=-86_400_000, le=86_400_000)
    class_name: ClassName | None = Field(None, alias="class")
    reason: Reason


class WithdrawalOut(Wire):
    id: int
    by: str
    at: str


class CorrectionOut(Wire):
    id: int
    car: str
    kind: Kind
    laps: int | None
    ms: int | None
    class_name: str | None = Field(alias="class")
    reason: str
    by: str
    at: str
    withdrawn: WithdrawalOut | None


class ClassificationOut(Wire):
    session_id: int
    status: Literal["provisional", "official"]
    revision: int
    declared_at: str | None
    declared_by: str | None
    corrections: list[CorrectionOut]
    cars: list[dict[str, Any]]


class VersionOut(Wire):
    revision: int
    declared_at: str
    declared_by: str
    corrections: list[CorrectionOut]
    cars: list[dict[str, Any]]


class VersionsOut(Wire):
    session_id: int
    versions: list[VersionOut]
