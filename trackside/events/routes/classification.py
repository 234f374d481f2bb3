"""``/events/{eventId}/sessions/{sessionId}/classification``: the official classification.

The event's officials and organizers declare it and correct it; whoever may watch the event
reads it (public events need no token). Each decision is a record of the event's log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from trackside.api.deps import DbDep, LiveEvent, PlatformDep, RunEvent, Writer
from trackside.events.classification import Desk
from trackside.events.classification_schemas import (
    ClassificationOut,
    CorrectionIn,
    CorrectionOut,
    VersionsOut,
    problems,
)
from trackside.events.models import Event

router = APIRouter(
    prefix="/events/{eventId}/sessions/{sessionId}/classification", tags=["classification"]
)

SessionId = Annotated[int, Path(alias="sessionId", ge=1, le=2**31 - 1)]
CorrectionId = Annotated[int, Path(alias="correctionId", ge=1, le=2**62)]
ERRORS = problems(401, 403, 404, 422)


@dataclass(frozen=True, slots=True)
class Target:
    """The session a request is about, the desk that decides, and who is asking."""

    desk: Desk
    db: AsyncSession
    event: Event
    id: int
    by: str = ""


async def reading(
    event: LiveEvent, session_id: SessionId, db: DbDep, platform: PlatformDep
) -> Target:
    return Target(platform.classification, db, event, session_id)


async def deciding(
    event: RunEvent, by: Writer, session_id: SessionId, db: DbDep, platform: PlatformDep
) -> Target:
    return Target(platform.classification, db, event, session_id, by.name)


Read = Annotated[Target, Depends(reading)]
Decide = Annotated[Target, Depends(deciding)]


@router.get("", response_model=ClassificationOut, responses=ERRORS)
async def read(session: Read) -> Any:
    """Status (``provisional`` until declared, ``official`` until the next correction), the
    revision (declarations so far), who declared it and when, every correction, and the cars."""
    return await session.desk.view(session.db, session.event, session.id)


@router.get("/versions", response_model=VersionsOut, responses=ERRORS)
async def versions(session: Read) -> Any:
    """Every declared revision, oldest first, with its cars as declared."""
    return await session.desk.versions(session.db, session.event, session.id)


@router.post("/declare", response_model=ClassificationOut, responses={**ERRORS, **problems(409)})
async def declare(session: Decide) -> Any:
    """The classification as it stands becomes official, as the next revision."""
    await session.desk.declare(session.db, session.event, session.id, session.by)
    return await session.desk.view(session.db, session.event, session.id)


@router.post(
    "/corrections",
    response_model=CorrectionOut,
    status_code=status.HTTP_201_CREATED,
    responses=ERRORS,
)
async def correct(body: CorrectionIn, session: Decide) -> Any:
    """Correct one car (laps, time penalty, disqualification, exclusion, class), with a
    reason; the classification is provisional again until the next declaration."""
    fix = body.model_dump(by_alias=True)
    return await session.desk.correct(session.db, session.event, session.id, session.by, fix)


@router.delete(
    "/corrections/{correctionId}", status_code=status.HTTP_204_NO_CONTENT, responses=ERRORS
)
async def withdraw(session: Decide, correction_id: CorrectionId) -> Response:
    """Withdraw a correction (a new record; the correction stays in the log)."""
    await session.desk.withdraw(session.db, session.event, session.id, correction_id, session.by)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
