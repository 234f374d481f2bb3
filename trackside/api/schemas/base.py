"""The base every wire model shares: camelCase on the wire, snake_case in Python."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Strict,
    StringConstraints,
)
from pydantic.alias_generators import to_camel


class Wire(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, from_attributes=True, extra="ignore"
    )


class WireIn(Wire):
    """A request body: types as the schema states them, no coercion (``"1"`` is not 1).

    Enums and instants are read from JSON text, so they take :data:`Lax` / :data:`Instant`.
    """

    model_config = ConfigDict(strict=True)


class Patch(WireIn):
    """A partial update: only the fields sent change, and none may be set to null."""

    model_config = ConfigDict(extra="forbid")

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
ShortName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Text = Annotated[str, StringConstraints(max_length=4000)]


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _text_instant(value: Any) -> Any:
    """On the wire an instant is ISO 8601 text; a number (epoch? which unit?) is refused."""
    if isinstance(value, str | datetime):
        return value
    raise ValueError("an ISO 8601 date-time string with a zone")


# An instant with a zone, kept and served in UTC ("2025-06-01T09:00:00Z").
Instant = Annotated[
    AwareDatetime, Strict(False), BeforeValidator(_text_instant), AfterValidator(_utc)
]
# An enum member read from its JSON text in a strict body.
Lax = Strict(False)
