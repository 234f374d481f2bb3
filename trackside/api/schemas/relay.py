"""Relay batches on the wire (snake_case, as relays and the ingest contract name them)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from trackside.services.ingest import MAX_BATCH

Source = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=r"^\S+$")
]


class RelayRecordIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    seq: int = Field(ge=1, le=2**53, description="Per source, from 1, +1 per record.")
    received_at: int = Field(ge=0, le=2**53, description="Epoch milliseconds UTC at the relay.")
    type: Annotated[str, StringConstraints(min_length=1, max_length=32)] = Field(
        description="rmonitor (one line of text) or p3 (one frame as hex)."
    )
    # No NUL: PostgreSQL text cannot hold one, and no feed line has one that is not broken.
    data: Annotated[str, StringConstraints(max_length=65_536, pattern=r"^[^\x00]*$")]


class RelayBatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    source: Source
    records: list[RelayRecordIn] = Field(max_length=MAX_BATCH)


class RelayAckOut(BaseModel):
    source: str
    stored: int = 0
    duplicates: int = 0
    acked_seq: int
