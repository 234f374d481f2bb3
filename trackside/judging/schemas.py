"""Judging on the wire: the organizers' API (camelCase like the Status API) and the judges'
app's own shapes (snake_case Spanish, as its clients send and read them)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from trackside.api.schemas.base import Instant, Name, Patch, Wire
from trackside.judging.records import MAX_RECORDS

Number = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=16)]
Username = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=150)]
RecordId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Id = Annotated[int, Field(ge=1, le=2**31 - 1, strict=True)]
Millis = Annotated[int, Field(ge=0, le=7 * 24 * 3_600_000, strict=True)]


class FieldErrorOut(BaseModel):
    location: str
    field: str
    message: str
    type: str


class ProblemOut(BaseModel):
    """Every refusal: what is wrong, and for bad input which field."""

    detail: str
    errors: list[FieldErrorOut] | None = None


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the refusals a route answers."""
    why = {
        400: "Malformed JSON, or a body the judges' app cannot have meant.",
        401: "No token, or a bad or expired one.",
        403: "The caller may not do this.",
        404: "No such event, competition, team or judge.",
        409: "The change clashes with the stored state.",
        422: "A field is missing or wrong; `errors` names it.",
    }
    return {code: {"model": ProblemOut, "description": why[code]} for code in codes}


# --- organizers -----------------------------------------------------------------------------


class JudgeIn(Wire):
    model_config = ConfigDict(extra="forbid")

    username: Username = Field(description="The account to make a judge of the event.")


class JudgeOut(Wire):
    id: int = Field(description="The judge profile: the app's `juez_id`.")
    username: str
    event_id: int
    active: bool


class CompetitionIn(Wire):
    model_config = ConfigDict(extra="forbid")

    name: Name
    scheduled_start: Instant


class CompetitionOut(Wire):
    id: int
    event_id: int
    name: str
    scheduled_start: datetime
    state: str = Field(description="scheduled, running or stopped")
    session_id: int | None = Field(description="The competition's session in the event.")
    started_at: datetime | None
    stopped_at: datetime | None


class TeamIn(Wire):
    model_config = ConfigDict(extra="forbid")

    name: Name
    number: Number = Field(description="The bib (`dorsal`).")
    judge_id: Id | None = Field(default=None, description="The judge who times the team.")


class TeamPatch(Patch):
    name: Name | None = None
    number: Number | None = None
    judge_id: Id | None = None


class TeamOut(Wire):
    id: int
    competition_id: int
    name: str
    number: str
    judge_id: int | None


class RecordOut(Wire):
    id: str = Field(description="The phone's id of the record (`id_registro`).")
    time_ms: int = Field(description="Milliseconds since the start.")
    phone_timestamp: str = Field(description="The phone's clock when tapped, as sent.")
    received_at: datetime = Field(description="The server's clock when stored.")


class TeamResultOut(Wire):
    rank: int
    team_id: int
    name: str
    number: str
    runners: int = Field(description="Runners in (at most 15 count).")
    team_time_ms: int | None = Field(description="The 15th runner's time, else the last's.")
    records: list[RecordOut]


class ResultsOut(Wire):
    competition_id: int
    name: str
    state: str
    started_at: datetime | None
    stopped_at: datetime | None
    teams: list[TeamResultOut]


# --- the judges' app --------------------------------------------------------------------------


def check_timestamp(value: str) -> str:
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError("not an ISO 8601 date and time") from None
    if parsed.year < 2000:
        raise ValueError("not a plausible date")
    return text


class RegistroIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    tiempo: Millis = Field(description="Milliseconds since the start.")
    timestamp: Annotated[str, StringConstraints(min_length=1, max_length=64)] = Field(
        description="The phone's clock (ISO 8601)."
    )
    id_registro: RecordId | None = Field(default=None, description="The phone's id (UUID).")

    _timestamp = field_validator("timestamp")(check_timestamp)


class EnviarTiemposIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    equipo_id: Id
    registros: list[RegistroIn] = Field(min_length=1, max_length=MAX_RECORDS)


class RegistroOut(BaseModel):
    id_registro: str
    equipo_id: int
    equipo_nombre: str
    equipo_dorsal: str
    tiempo: int
    horas: int
    minutos: int
    segundos: int
    milisegundos: int
    timestamp: str


class IgnoradoOut(BaseModel):
    tiempo: int
    timestamp: str | None
    id_registro: str | None


class EnviarTiemposOut(BaseModel):
    mensaje: str
    equipo_id: int
    total_recibidos: int
    total_guardados: int = Field(description="New records stored.")
    total_duplicados: int = Field(description="Records the team held already (not stored again).")
    total_ignorados: int = Field(description="Records beyond the team's 15 (not stored).")
    registros: list[RegistroOut] = Field(description="Every record the team holds from this body.")
    ignorados: list[IgnoradoOut]


class CompetenciaOut(BaseModel):
    id: int
    nombre: str
    fecha_hora: str | None
    en_curso: bool
    estado: str
    fecha_inicio: str | None
    fecha_fin: str | None


class EquipoOut(BaseModel):
    id: int
    nombre: str
    dorsal: str
    competencia: int
    competencia_id: int
    juez_asignado: int | None


class CompetenciaAccionOut(BaseModel):
    mensaje: str
    competencia: CompetenciaOut
