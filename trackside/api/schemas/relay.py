"""Relay batches on the wire (snake_case, as relays and the ingest contract name them)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from trackside.services.ingest import MAX_BATCH

Source = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=r"^\S+$")
]


class RelayRecordIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seq: int = Field(ge=1, le=2**62, description="Per source, from 1, +1 per record.")
    received_at: int = Field(ge=0, le=2**53, description="Epoch milliseconds UTC at the relay.")
    type: Annotated[str, StringConstraints(min_length=1, max_length=32)] = Field(
        description="rmonitor (one line of text) or p3 (one frame as hex)."
    )
    data: Annotated[str, StringConstraints(max_length=65_536)]


# Sources only the server writes: a relay's record there would be an official's decision.
RESERVED_SOURCES = frozenset({"classification"})


def _not_reserved(source: str) -> str:
    if source in RESERVED_SOURCES:
        raise ValueError(f"the source {source!r} is the server's own")
    return source


class RelayBatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: Annotated[Source, AfterValidator(_not_reserved)]
    records: list[RelayRecordIn] = Field(max_length=MAX_BATCH)


class RelayAckOut(BaseModel):
    source: str
    stored: int = 0
    duplicates: int = 0
    acked_seq: int
