"""Organizations, events, sessions, classes and entries on the wire."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    field_validator,
)

from trackside.api.schemas.base import Instant, Lax, Name, Patch, ShortName, Text, Wire, WireIn
from trackside.events.ingest import MAX_BATCH
from trackside.feeds import registry
from trackside.timing.loops import LoopKind

Id = Annotated[int, Field(ge=1, le=2**31 - 1)]
CarNumber = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=16)]
Transponder = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
Location = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]


class Visibility(StrEnum):
    PUBLIC = "public"
    PRIVATE = "private"


class SessionType(StrEnum):
    PRACTICE = "practice"
    QUALIFYING = "qualifying"
    RACE = "race"


def _session_type(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


# --- organizations --------------------------------------------------------------------------


class OrganizationOut(Wire):
    id: int
    name: str
    description: str
    created_date: Instant = Field(validation_alias="created_at")


class OrganizationIn(WireIn):
    name: Name
    description: Text = ""


class OrganizationPatch(Patch):
    name: Name = None  # type: ignore[assignment]
    description: Text = None  # type: ignore[assignment]


# --- events ---------------------------------------------------------------------------------


class EventOut(Wire):
    id: int
    name: str
    start_date: Instant
    end_date: Instant
    location: str
    organization_id: int
    visibility: Visibility


class EventIn(WireIn):
    name: Name
    start_date: Instant
    end_date: Instant
    location: Location = ""
    organization_id: Id
    visibility: Annotated[Visibility, Lax] = Visibility.PUBLIC


class EventPatch(Patch):
    name: Name = None  # type: ignore[assignment]
    start_date: Instant = None  # type: ignore[assignment]
    end_date: Instant = None  # type: ignore[assignment]
    location: Location = None  # type: ignore[assignment]
    organization_id: Id = None  # type: ignore[assignment]
    visibility: Annotated[Visibility, Lax] = None  # type: ignore[assignment]


# --- sessions -------------------------------------------------------------------------------


class SessionOut(Wire):
    id: int
    event_id: int
    name: str
    start_time: Instant
    end_time: Instant | None
    type: SessionType


class SessionIn(WireIn):
    name: Name
    type: Annotated[SessionType, Lax]
    start_time: Instant
    end_time: Instant | None = None

    _type = field_validator("type", mode="before")(_session_type)


class SessionPatch(Patch):
    name: Name = None  # type: ignore[assignment]
    type: Annotated[SessionType, Lax] = None  # type: ignore[assignment]
    start_time: Instant = None  # type: ignore[assignment]
    end_time: Instant | None = None

    _type = field_validator("type", mode="before")(_session_type)


# --- classes --------------------------------------------------------------------------------


class ClassOut(Wire):
    id: int
    event_id: int
    name: str


class ClassIn(WireIn):
    name: ShortName


class ClassPatch(Patch):
    name: ShortName = None  # type: ignore[assignment]


# --- entries --------------------------------------------------------------------------------


class EntryOut(Wire):
    id: int
    event_id: int
    number: str
    driver_name: str
    team_name: str
    class_id: int | None
    transponder: str | None


class EntryIn(WireIn):
    number: CarNumber
    driver_name: Name
    team_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""
    class_id: Id | None = None
    transponder: Transponder | None = None


class EntryPatch(Patch):
    number: CarNumber = None  # type: ignore[assignment]
    driver_name: Name = None  # type: ignore[assignment]
    team_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = None  # type: ignore[assignment]
    class_id: Id | None = None
    transponder: Transponder | None = None


# Relay batches (snake_case, as relays and the ingest contract name them)

Source = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=r"^\S+$")
]


def _relay_type(kind: str) -> str:
    record_type = registry.record_type(kind)
    if record_type is not None and record_type.server_only:
        raise ValueError(f"{kind!r} records are written only by the server")
    return kind


class RelayRecordIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    seq: int = Field(ge=1, le=2**53, description="Per source, from 1, +1 per record.")
    received_at: int = Field(ge=0, le=2**53, description="Epoch milliseconds UTC at the relay.")
    type: Annotated[
        str, StringConstraints(min_length=1, max_length=32), AfterValidator(_relay_type)
    ] = Field(
        description="rmonitor (one line of text) or p3 (one frame as hex); the server's own "
        "types (controllog, judge, checkpoint, iracing, classification) are refused, other "
        "types are kept and reported, not scored."
    )
    # No NUL: PostgreSQL text cannot hold one, and no feed line has one that is not broken.
    data: Annotated[str, StringConstraints(max_length=65_536, pattern=r"^[^\x00]*$")]


# Sources only the server writes (an official's decision, race control, judges, GPS
# crossings, imports): a relay's record there would pass for the server's.
RESERVED_SOURCES = frozenset({"classification", "controllog", "judging", "tracking"})
RESERVED_PREFIXES = ("judge:", "iracing-")


def _not_reserved(source: str) -> str:
    if source in RESERVED_SOURCES or source.startswith(RESERVED_PREFIXES):
        raise ValueError(f"the source {source!r} is the server's own")
    return source


class RelayBatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    source: Annotated[Source, AfterValidator(_not_reserved)]
    records: list[RelayRecordIn] = Field(max_length=MAX_BATCH)


class RelayAckOut(BaseModel):
    source: str
    stored: int = 0
    duplicates: int = 0
    acked_seq: int


# Timing loops (track-side configuration: what each decoder's passings mean)

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


# What the processor could not score (/events/{eventId}/diagnostics)


class SourceOut(Wire):
    source: str
    acked_seq: int
    last_seen_at: str


class LoopCountsOut(Wire):
    crossings: int
    resent: int
    no_session: int
    unknown_loop: int
    duplicates: int
    out_of_order: int


class ProcessorOut(Wire):
    """Which node scores the event (holds its lease), under which epoch, since when."""

    node: str
    epoch: int
    since: str


class DiagnosticsOut(Wire):
    """Counts, samples of bad records (source, seq, type, data, reason), relay sources, and
    the node whose processor leads (``processor``; null when none does)."""

    event_id: int
    live: bool
    log_length: int
    last_record_at: str | None
    sources: list[SourceOut]
    records: int
    records_by_type: dict[str, int]
    bad_records: int
    feed_errors: int
    unknown_commands: int
    p3_frames: dict[str, int]
    loops: LoopCountsOut
    control_log_records: int
    samples: list[dict[str, Any]]
    version: int
    epoch: int
    processor: ProcessorOut | None
