"""iRacing routes: connect (``/auth/iracing/start`` → iRacing → ``/auth/iracing/callback``),
status, disconnect, sync, the synced sessions, and importing one into an event.

Every route but the callback needs a user's token and works on that user's connection only;
without ``TRACKSIDE_IRACING_CLIENT_ID`` they answer 503 saying so.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response, status
from fastapi.responses import JSONResponse, RedirectResponse

from trackside.accounts import roles
from trackside.api.deps import BaseUrl, CurrentUser, DbDep, PlatformDep, Writer
from trackside.errors import Forbidden
from trackside.events import service as events
from trackside.iracing import imports
from trackside.iracing import sync as syncing
from trackside.iracing.connections import BadState, IRacing, NotConfigured
from trackside.iracing.data_api import DataApiError, RateLimited
from trackside.iracing.oauth import OAuthError
from trackside.iracing.schemas import (
    ImportOut,
    ParticipantOut,
    Problem,
    SessionOut,
    SessionsOut,
    StartOut,
    StatusOut,
    SyncOut,
)

router = APIRouter(tags=["iRacing"])

COOKIE = "trackside_iracing"
CONNECTIONS = "/connections"


def _problem(description: str) -> dict[str, Any]:
    return {"model": Problem, "description": description}


NEEDS_USER = {
    401: _problem("No token, or a bad or expired one."),
    403: _problem("A machine client: this needs a user account."),
    503: _problem("iRacing is not configured on this server (no client id)."),
}


async def get_iracing(platform: PlatformDep) -> IRacing:
    iracing = platform.iracing
    try:
        iracing.require()
    except NotConfigured as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, exc.message) from None
    return iracing


IRacingDep = Annotated[IRacing, Depends(get_iracing)]


@contextmanager
def upstream() -> Iterator[None]:
    """iRacing failing (down, unreachable, rate limited) is a 502/503/429, not our 500."""
    try:
        yield
    except RateLimited as exc:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            str(exc),
            headers={"Retry-After": str(max(1, round(exc.reset_in_s)))},
        ) from None
    except (DataApiError, OAuthError, ValueError) as exc:
        code = 503 if getattr(exc, "status", None) == 503 else status.HTTP_502_BAD_GATEWAY
        raise HTTPException(code, f"iRacing: {exc}") from None


@router.get(
    "/auth/iracing/start",
    response_model=StartOut,
    responses=NEEDS_USER,
    summary="Start connecting an iRacing account",
)
async def start(
    user: CurrentUser,
    iracing: IRacingDep,
    db: DbDep,
    base_url: BaseUrl,
    request: Request,
    response: Response,
) -> StartOut:
    """The iRacing authorization URL to send the browser to (PKCE S256; the state is single-use
    and expires in 10 minutes). A cookie binds the state to this browser."""
    started = await iracing.start(db, user.id, base_url, request.cookies.get(COOKIE))
    response.set_cookie(
        COOKIE,
        started.browser_token,
        max_age=600,
        path="/auth/iracing",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return StartOut(
        auth_url=started.auth_url,
        message="Redirect to this URL to authorize the iRacing connection",
    )


def _back(**query: str) -> RedirectResponse:
    return RedirectResponse(f"{CONNECTIONS}?{urlencode(query)}", status_code=302)


@router.get(
    "/auth/iracing/callback",
    response_class=RedirectResponse,
    status_code=302,
    responses={
        302: {"description": "Connected (or refused at iRacing): back to /connections."},
        400: _problem("Unknown, expired, used or foreign state; or iRacing refused the code."),
        503: NEEDS_USER[503],
    },
    summary="iRacing's redirect back after authorization",
)
async def callback(
    iracing: IRacingDep,
    db: DbDep,
    base_url: BaseUrl,
    request: Request,
    code: Annotated[str | None, Query(max_length=2000)] = None,
    state: Annotated[str | None, Query(max_length=200)] = None,
    error: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """Exchanges the code, reads the member's profile, stores the account, and redirects to
    ``/connections?success=iracing_connected``; a refusal at iRacing redirects with
    ``error``. A bad, expired or replayed state is 400 and nothing is stored."""
    browser = request.cookies.get(COOKIE)
    if error:
        with suppress(BadState):
            await iracing.take_state(db, state, browser)  # spent either way
        return _back(error=error if error == "access_denied" else "iracing_error")
    try:
        await iracing.callback(db, code, state, browser, base_url)
    except BadState as exc:
        return JSONResponse({"detail": exc.message}, status_code=400)
    return _back(success="iracing_connected")


@router.get("/api/iracing/status", response_model=StatusOut, responses=NEEDS_USER)
async def read_status(user: CurrentUser, iracing: IRacingDep, db: DbDep) -> StatusOut:
    """The caller's iRacing connection (``connected: false`` with nothing else when none;
    ``needsReconnect`` when the tokens stopped working)."""
    return await iracing.status(db, user.id)


@router.delete(
    "/api/iracing/connection",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**NEEDS_USER, 404: _problem("No iRacing account is connected.")},
)
async def disconnect(user: CurrentUser, iracing: IRacingDep, db: DbDep) -> Response:
    """Forget the caller's iRacing tokens; synced sessions stay."""
    await iracing.disconnect(db, user.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/api/iracing/sync",
    response_model=SyncOut,
    responses={
        **NEEDS_USER,
        404: _problem("No iRacing account is connected."),
        409: _problem("The iRacing connection needs reconnecting (the refresh was refused)."),
        429: _problem("Too many writes."),
        502: _problem("iRacing's OAuth server could not be reached to refresh the token."),
    },
)
async def sync_now(user: CurrentUser, _: Writer, iracing: IRacingDep, db: DbDep) -> SyncOut:
    """Sync the caller's league sessions and hosted sessions (the last 30 days) with their
    participants. Partial failures still answer 200 with ``errors`` and ``errorDetails``."""
    with upstream():
        report = await syncing.sync(iracing, db, user.id)
    return SyncOut(
        message=report.message,
        synced=report.synced,
        errors=report.errors,
        error_details=report.error_details,
        rate_limit_reset_in_s=report.rate_limited_for_s,
    )


def session_out(row: Any, mine: Any) -> SessionOut:
    return SessionOut(
        id=row.id,
        session_id=str(row.session_id if row.session_id is not None else row.subsession_id),
        sub_session_id=row.subsession_id,
        session_type=row.session_type,
        kind=row.kind,
        league_id=row.league_id,
        league_name=row.league_name,
        season_id=row.season_id,
        session_name=row.session_name,
        track_name=row.track_name,
        car_name=row.car_name,
        start_time=row.start_time,
        end_time=row.end_time,
        participant_count=len(row.participants),
        participant=ParticipantOut.model_validate(mine, from_attributes=True) if mine else None,
    )


@router.get("/api/iracing/sessions", response_model=SessionsOut, responses=NEEDS_USER)
async def list_sessions(
    user: CurrentUser,
    _: IRacingDep,
    db: DbDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> SessionsOut:
    """The caller's synced sessions, newest first, each with the caller's own result."""
    page = await syncing.sessions(db, user.id, limit, offset)
    return SessionsOut(
        sessions=[session_out(row, mine) for row, mine in page.sessions],
        total=page.total,
        limit=limit,
        offset=offset,
    )


SessionPath = Annotated[int, Path(alias="sessionId", ge=1, le=2**31 - 1)]


@router.post(
    "/api/iracing/sessions/{sessionId}/import",
    response_model=ImportOut,
    responses={
        **NEEDS_USER,
        403: _problem("A machine client, or not an organizer of the event's organization."),
        404: _problem("No such synced session of the caller's, or no such event."),
        409: _problem("The iRacing connection needs reconnecting."),
        429: _problem("Too many writes, or iRacing's rate limit is spent."),
        502: _problem("iRacing failed to answer."),
    },
)
async def import_session(
    session_id: SessionPath,
    user: CurrentUser,
    _: Writer,
    iracing: IRacingDep,
    db: DbDep,
    platform: PlatformDep,
    event_id: Annotated[int, Query(alias="eventId", ge=1, le=2**31 - 1)],
) -> ImportOut:
    """Import one of the caller's synced sessions into an event of an organization they
    organize: its result and lap data go into the event's log and are scored like a race
    (board, charts, results). Importing it again adds nothing."""
    event = await events.get_event(db, event_id)
    if not roles.can_manage_event(user, events.scope(event)):
        raise Forbidden("only the organizers of the event's organization may import into it")
    with upstream():
        done = await imports.import_session(
            iracing,
            db,
            platform.event_locks,
            platform.processors,
            user.id,
            session_id,
            event.id,
        )
    message = (
        f"Imported {done.laps} lap(s) of {done.drivers} car(s) into event {event.id}."
        if done.records
        else f"Subsession {done.subsession_id} was already imported into event {event.id}."
    )
    return ImportOut(
        event_id=event.id,
        sub_session_id=done.subsession_id,
        records=done.records,
        laps=done.laps,
        drivers=done.drivers,
        message=message,
    )
