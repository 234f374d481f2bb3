"""Telemetry on the wire: the seed's write bodies, API tokens, query answers."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    StringConstraints,
    field_validator,
)

from trackside.api.schemas.base import ShortName, Wire

# Epoch times are told apart by magnitude: each unit covers 1973-03-03 … 5138-11-16 alone
# (seconds below 1e11, milliseconds below 1e14, microseconds below 1e17, nanoseconds above).
EPOCH_UNITS = ((1e11, 1_000_000_000), (1e14, 1_000_000), (1e17, 1_000), (9.3e18, 1))
EPOCH_HELP = (
    "Epoch time in seconds, milliseconds, microseconds or nanoseconds, told apart by magnitude "
    "(any date from 1973-03-03 on is unambiguous)."
)


def epoch_ns(value: float) -> int:
    """Nanoseconds for an epoch number in s, ms, µs or ns (see EPOCH_UNITS)."""
    if value < 1e8:
        raise ValueError("an epoch time from 1973-03-03 on, in s, ms, µs or ns")
    for below, scale in EPOCH_UNITS:
        if value < below:
            return round(value * scale)
    raise ValueError("timestamp too large for nanoseconds since 1970")


def _check_key(key: str, what: str) -> str:
    if not key:
        raise ValueError(f"empty {what}")
    if key.startswith("_"):
        raise ValueError(f"{what} {key!r} starts with '_' (reserved)")
    if any(c in key for c in "\n\r\t"):
        raise ValueError(f"{what} {key!r} has a line break or tab")
    if key == "time":
        raise ValueError(f"{what} 'time' is reserved")
    return key


Number = Annotated[float, Field(strict=True, allow_inf_nan=False)] | StrictInt
FieldValueIn = StrictBool | StrictInt | StrictFloat | StrictStr
Measurement = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Timestamp = Annotated[float, Field(strict=False, gt=0, allow_inf_nan=False, description=EPOCH_HELP)]


class WriteIn(BaseModel):
    """The seed's ``POST /write``: one point into bucket ``telemetry``."""

    model_config = ConfigDict(extra="forbid")

    measurement: Measurement
    tags: dict[str, Annotated[str, StringConstraints(min_length=1, max_length=256)]] = {}
    fields: Annotated[dict[str, FieldValueIn], Field(min_length=1, max_length=200)]
    timestamp: Annotated[int | float, Field(description=EPOCH_HELP)] | None = None

    @field_validator("measurement")
    @classmethod
    def _measurement(cls, value: str) -> str:
        if "\n" in value or "\r" in value:
            raise ValueError("measurement has a line break")
        return value

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: dict[str, str]) -> dict[str, str]:
        for key, text in value.items():
            _check_key(key, "tag key")
            if "\n" in text or "\r" in text:
                raise ValueError(f"tag {key!r} has a line break")
        return value

    @field_validator("fields")
    @classmethod
    def _fields(cls, value: dict[str, object]) -> dict[str, object]:
        for key, item in value.items():
            _check_key(key, "field key")
            if isinstance(item, float) and not math.isfinite(item):
                raise ValueError(f"field {key!r} is not a finite number")
        return value

    @field_validator("timestamp")
    @classmethod
    def _timestamp(cls, value: float | None) -> float | None:
        if value is not None:
            epoch_ns(value)
        return value


class GraphIn(BaseModel):
    """The seed's ``POST /write-graph``: measurement ``graph``, field ``value``."""

    model_config = ConfigDict(extra="forbid")

    timestamp: Annotated[Number, Field(description=EPOCH_HELP)]
    value: Number

    @field_validator("timestamp")
    @classmethod
    def _timestamp(cls, value: float) -> float:
        epoch_ns(value)
        return value


class WrittenOut(BaseModel):
    status: str = "ok"
    bucket: str
    points: int


class TokenIn(Wire):
    name: ShortName


class TokenCreatedOut(Wire):
    id: int
    name: str
    token: str = Field(description="Shown this once; only its digest is kept.")
    created_at: datetime


class TokenOut(Wire):
    id: int
    name: str
    created_at: datetime


class SeriesOut(Wire):
    field: str
    tags: dict[str, str]
    time: list[float] = Field(description="Epoch milliseconds (start of each bucket).")
    value: list[float | int | bool | str | None] | None = None
    min: list[float | None] | None = None
    max: list[float | None] | None = None
    mean: list[float | None] | None = None
    last: list[float | None] | None = None
    count: list[int] | None = None


class QueryOut(Wire):
    bucket: str
    measurement: str
    start: datetime
    stop: datetime
    every: str | None = Field(description="Bucket width; null when raw points are answered.")
    raw: bool
    series: list[SeriesOut]


class MeasurementOut(Wire):
    name: str
    fields: list[str]
    tags: dict[str, list[str]]


class LapOut(Wire):
    number: int
    lap_time_ms: int
    start_ms: int = Field(description="Wall clock of the crossing that opened the lap (epoch ms)")
    end_ms: int
    every: str | None
    raw: bool
    series: list[SeriesOut] = Field(description="``time`` is milliseconds since the lap started")


class LapTelemetryOut(Wire):
    car: str
    session_id: int
    lap: LapOut
    best: LapOut | None = None
