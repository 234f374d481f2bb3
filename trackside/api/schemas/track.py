"""Track-side configuration on the wire: an event's loops and its race-control log source."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import ConfigDict, Field, HttpUrl, StringConstraints, WithJsonSchema, field_validator

from trackside.api.schemas.base import Lax, ShortName, Wire, WireIn
from trackside.timing.loops import LoopKind

MAX_DECODER_ID = 2**32 - 1
MAX_LOOPS = 64
HEX = 16


HEX_ID = r"^0[xX][0-9a-fA-F]{1,8}$"
DECODER_ID_SCHEMA = {
    "anyOf": [
        {"type": "integer", "minimum": 0, "maximum": MAX_DECODER_ID},
        {"type": "string", "pattern": HEX_ID},
    ],
    "description": "As the decoder reports it: a number, or hex as 0x….",
}


def _decoder_id(value: Any) -> Any:
    """Decoder ids are often written in hex (``0x00041813``); accept that next to a number."""
    if isinstance(value, str):
        if re.fullmatch(HEX_ID, value) is None:
            raise ValueError("a number, or hex as 0x…")
        return int(value, HEX)
    return value


class LoopIn(WireIn):
    model_config = ConfigDict(extra="forbid")

    name: ShortName
    kind: Annotated[LoopKind, Lax] = Field(
        description="start_finish, pit_in, pit_out, pit_start_finish, sector"
    )
    decoder_id: Annotated[int, WithJsonSchema(DECODER_ID_SCHEMA)] = Field(ge=0, le=MAX_DECODER_ID)
    loop_id: int | None = Field(
        default=None, ge=0, le=2**31 - 1, description="For decoders that read several loops."
    )

    _decoder = field_validator("decoder_id", mode="before")(_decoder_id)


class LoopsIn(WireIn):
    model_config = ConfigDict(extra="forbid")

    loops: list[LoopIn] = Field(max_length=MAX_LOOPS)


class LoopOut(Wire):
    name: str
    kind: LoopKind
    decoder_id: int
    loop_id: int | None


class LoopsOut(Wire):
    event_id: int
    loops: list[LoopOut]


HeaderNames = (
    Annotated[str, StringConstraints(min_length=1, max_length=100)]
    | Annotated[
        list[Annotated[str, StringConstraints(min_length=1, max_length=100)]],
        Field(min_length=1, max_length=20),
    ]
)


class ColumnsIn(WireIn):
    """Header names of each field (any case and spacing); a field left out keeps the defaults."""

    model_config = ConfigDict(extra="forbid")

    time: HeaderNames | None = None
    date: HeaderNames | None = None
    cars: HeaderNames | None = None
    corner: HeaderNames | None = None
    description: HeaderNames | None = None
    penalty: HeaderNames | None = None
    status: HeaderNames | None = None
    id: HeaderNames | None = None
    day_first: bool | None = Field(default=None, description="Slashed dates day first.")

    def config(self) -> dict[str, Any]:
        return {
            ("dayFirst" if name == "day_first" else name): value
            for name, value in self.model_dump(exclude_none=True).items()
        }


class PenaltyRuleIn(WireIn):
    model_config = ConfigDict(extra="forbid")

    pattern: Annotated[str, StringConstraints(min_length=1, max_length=500)] = Field(
        description="A case-insensitive regular expression matched in the penalty text."
    )
    outcome: Annotated[
        str,
        StringConstraints(
            max_length=40, pattern=r"^\s*(warning|black_flag|none|laps)\s*(:\s*[0-9]+\s*)?$"
        ),
    ] = Field(
        description="warning, black_flag, none, laps (count from the pattern's group) or laps:N."
    )


class ControlLogSourceIn(WireIn):
    model_config = ConfigDict(extra="forbid")

    url: HttpUrl | None = Field(description="Polled when set; null: uploads only.")
    interval_s: float = Field(default=30.0, ge=0.5, le=86_400)
    columns: ColumnsIn = Field(default_factory=ColumnsIn)
    penalty_rules: list[PenaltyRuleIn] = Field(
        default_factory=list, max_length=100, description="In order; empty: the default rules."
    )
    void_statuses: list[Annotated[str, StringConstraints(min_length=1, max_length=100)]] | None = (
        Field(default=None, max_length=50, description="Statuses that cancel a penalty.")
    )

    @field_validator("url")
    @classmethod
    def _http_only(cls, value: HttpUrl | None) -> HttpUrl | None:
        if value is not None and value.scheme not in ("http", "https"):
            raise ValueError("use an http:// or https:// URL")
        return value


class ImportOut(Wire):
    rows: int
    new: int
    changed: int
    removed: int
    bad_rows: int
    appended: int
    acked_seq: int
