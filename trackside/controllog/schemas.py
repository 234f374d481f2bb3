"""An event's race-control log source on the wire, and the outcome of a log import."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ConfigDict, Field, HttpUrl, StringConstraints, field_validator

from trackside.api.schemas.base import Wire, WireIn

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


class PenaltyRuleOut(Wire):
    pattern: str
    outcome: str


class ControlLogSourceOut(Wire):
    """How the log is read and polled, and how the last poll went."""

    event_id: int
    url: str | None
    interval_s: float
    columns: dict[str, Any]
    penalty_rules: list[PenaltyRuleOut]
    void_statuses: list[str] | None
    updated_at: str
    last_polled_at: str | None
    last_status: str | None
    last_error: str | None
    polls: int


class BadRowOut(Wire):
    key: str
    row: int
    reason: str
    cars: list[str]
    cells: list[str]


class CarTallyOut(Wire):
    car: str
    warnings: int
    penalty_laps: int
    black_flags: int
    entries: list[str]


class ControlLogOut(Wire):
    """The log as it stands. Each entry (and removal) is its current revision's stored fields
    with ``session`` and the ``superseded`` revisions."""

    event_id: int
    records: int
    entries: list[dict[str, Any]]
    removed: list[dict[str, Any]]
    cars: list[CarTallyOut]
    bad_rows: list[BadRowOut]


class ImportOut(Wire):
    rows: int
    new: int
    changed: int
    removed: int
    bad_rows: int
    appended: int
    acked_seq: int
