"""Typed dependencies: the database session, the caller, and every role check.

Routes declare what they need (``DbDep``, ``CurrentUser``, ``ManagedEvent`` …) and stay
thin; the access rules themselves live in ``accounts/roles.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from trackside.accounts import principals, roles
from trackside.accounts.principals import Caller
from trackside.accounts.roles import Principal
from trackside.accounts.tokens import InvalidToken, issuer
from trackside.api.openapi import anonymous, raises
from trackside.api.problems import RateLimited, Unauthorized
from trackside.config import Settings
from trackside.errors import Forbidden, Unauthenticated
from trackside.events import service as events
from trackside.events.models import Event, Organization
from trackside.platform import Platform

# Every dependency here is a coroutine, even one that never waits: FastAPI runs a plain
# ``def`` dependency in a worker thread, a thread hop per request for a dictionary lookup.


async def get_platform(request: Request) -> Platform:
    return request.app.state.platform


PlatformDep = Annotated[Platform, Depends(get_platform)]


async def get_settings(platform: PlatformDep) -> Settings:
    return platform.settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


async def get_db(platform: PlatformDep) -> AsyncIterator[AsyncSession]:
    async with platform.db_factory() as db:
        yield db


DbDep = Annotated[AsyncSession, Depends(get_db)]


async def get_issuer(request: Request, settings: SettingsDep) -> str:
    return issuer(settings, str(request.base_url))


IssuerDep = Annotated[str, Depends(get_issuer)]


async def get_base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


BaseUrl = Annotated[str, Depends(get_base_url)]

# --- who is calling ----------------------------------------------------------------------------

_bearer = HTTPBearer(
    auto_error=False,
    description="An access token from /auth/login or the client-credentials token endpoint.",
)


@raises(401)
async def get_principal(
    platform: PlatformDep,
    db: DbDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None:
        raise Unauthorized("missing bearer token", error=None)
    try:
        subject = await platform.tokens.verify(credentials.credentials)
    except InvalidToken as exc:
        raise Unauthorized(str(exc)) from None
    return await principals.load_principal(db, subject)


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


@raises(401)
@anonymous
async def get_optional_principal(
    platform: PlatformDep,
    db: DbDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal | None:
    """The caller if a token was sent (a bad one is still 401); None for anonymous readers."""
    if credentials is None:
        return None
    return await get_principal(platform, db, credentials)


OptionalPrincipal = Annotated[Principal | None, Depends(get_optional_principal)]


def _allow(allowed: bool, why: str) -> None:
    if not allowed:
        raise Forbidden(why)


@raises(403)
async def get_user(principal: CurrentPrincipal) -> Principal:
    _allow(principal.is_user, "this needs a user account, not a machine client")
    return principal


CurrentUser = Annotated[Principal, Depends(get_user)]


@raises(403)
async def get_admin(principal: CurrentPrincipal) -> Principal:
    _allow(roles.can_administer(principal), "this needs the admin role")
    return principal


AdminPrincipal = Annotated[Principal, Depends(get_admin)]


@raises(403)
async def require_organization_creator(principal: CurrentPrincipal) -> Principal:
    _allow(roles.can_create_organization(principal), "only admins create organizations")
    return principal


OrganizationCreator = Annotated[Principal, Depends(require_organization_creator)]

# --- the record a route works on, checked ---------------------------------------------------------

EventId = Annotated[int, Path(alias="eventId", ge=1, le=2**31 - 1)]
OrganizationId = Annotated[int, Path(alias="organizationId", ge=1, le=2**31 - 1)]


@raises(404)
async def get_organization(db: DbDep, organization_id: OrganizationId) -> Organization:
    return await events.get_organization(db, organization_id)


AnyOrganization = Annotated[Organization, Depends(get_organization)]


@raises(403)
async def get_managed_organization(
    principal: CurrentPrincipal, organization: AnyOrganization
) -> Organization:
    _allow(
        roles.can_manage_organization(principal, organization.id),
        "only the organization's organizers may change it",
    )
    return organization


ManagedOrganization = Annotated[Organization, Depends(get_managed_organization)]


@raises(403)
async def require_organization_deleter(
    principal: CurrentPrincipal, _: AnyOrganization
) -> Principal:
    _allow(roles.can_create_organization(principal), "only admins delete organizations")
    return principal


OrganizationDeleter = Annotated[Principal, Depends(require_organization_deleter)]


async def _event(
    principal: Principal,
    db: AsyncSession,
    event_id: int,
    rule: Callable[[Principal, roles.EventScope], bool],
    why: str,
) -> Event:
    event = await events.get_event(db, event_id)
    _allow(rule(principal, events.scope(event)), why)
    return event


@raises(403, 404)
async def get_readable_event(principal: CurrentPrincipal, db: DbDep, event_id: EventId) -> Event:
    return await _event(principal, db, event_id, roles.can_read_event, "the event is private")


ReadableEvent = Annotated[Event, Depends(get_readable_event)]


@raises(403, 404)
async def get_managed_event(principal: CurrentPrincipal, db: DbDep, event_id: EventId) -> Event:
    why = "only the organizers of the event's organization may change it"
    return await _event(principal, db, event_id, roles.can_manage_event, why)


ManagedEvent = Annotated[Event, Depends(get_managed_event)]


@raises(403, 404)
async def get_run_event(principal: CurrentPrincipal, db: DbDep, event_id: EventId) -> Event:
    why = "only the event's organizers and officials may change its sessions, classes, entries"
    return await _event(principal, db, event_id, roles.can_run_event, why)


RunEvent = Annotated[Event, Depends(get_run_event)]


@raises(401, 403, 404)
async def get_live_event(principal: OptionalPrincipal, db: DbDep, event_id: EventId) -> Event:
    """Public events' live data needs no token; private ones need a reader's token
    (``events.service.watchable_event``, as for the WebSocket and the SignalR hub)."""
    try:
        return await events.watchable_event(db, event_id, principal)
    except Unauthenticated as exc:
        raise Unauthorized(exc.message, error=None) from None


LiveEvent = Annotated[Event, Depends(get_live_event)]


@raises(401)
async def get_relay_caller(
    platform: PlatformDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    """The relay's caller, cached per token (``accounts.principals.CallerCache``): a relay
    posts several batches a second while live; revocation takes effect within seconds."""
    if credentials is None:
        raise Unauthorized("missing bearer token", error=None)
    try:
        return await platform.relay_callers.caller(
            credentials.credentials, platform.tokens, platform.db_factory
        )
    except InvalidToken as exc:
        raise Unauthorized(str(exc)) from None


RelayCaller = Annotated[Caller, Depends(get_relay_caller)]


@dataclass(frozen=True, slots=True)
class EventRef:
    """An event checked for a route that needs only its id."""

    id: int


@raises(403, 404)
async def get_relay_event(caller: RelayCaller, db: DbDep, event_id: EventId) -> EventRef:
    """The event the caller may send records to; the answer is kept with the cached caller
    (and checked again when it is)."""

    async def check(principal: Principal, db: AsyncSession) -> EventRef:
        why = "only the event's officials (e.g. its relay's client) may send timing records"
        return EventRef((await _event(principal, db, event_id, roles.can_relay, why)).id)

    answer: EventRef = await caller.allow(relay_event_key(event_id), check, db)
    return answer


RelayEvent = Annotated[EventRef, Depends(get_relay_event)]


def require_organizer_of(principal: Principal, organization_id: int) -> None:
    """For bodies that name an organization (a new event, an event moved between them)."""
    _allow(
        roles.can_manage_organization(principal, organization_id),
        "only the organization's organizers may add or move events to it",
    )


# --- rate limits ---------------------------------------------------------------------------------


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def _limit(platform: Platform, key: str, limit: int) -> None:
    retry = await platform.limiter.hit(key, limit, platform.settings.rate_limit_window_s)
    if retry is not None:
        raise RateLimited(retry)


@raises(409, 429)
async def limit_writes(principal: CurrentPrincipal, platform: PlatformDep) -> Principal:
    await _limit(
        platform, f"write:{principal.kind}:{principal.id}", platform.settings.write_rate_limit
    )
    return principal


Writer = Annotated[Principal, Depends(limit_writes)]


@raises(409, 429)
async def limit_relay(caller: RelayCaller, platform: PlatformDep) -> Principal:
    """Relays post several batches a second while live, and many while catching up."""
    principal = caller.principal
    await _limit(platform, relay_limit_key(principal), platform.settings.relay_rate_limit)
    return principal


def relay_limit_key(principal: Principal) -> str:
    return f"relay:{principal.kind}:{principal.id}"


def relay_event_key(event_id: int) -> tuple[str, int]:
    """Where a caller keeps the answer of ``get_relay_event``."""
    return ("relay", event_id)


RelayWriter = Annotated[Principal, Depends(limit_relay)]


@raises(429)
async def limit_anonymous_writes(request: Request, platform: PlatformDep) -> None:
    key = f"write:anon:{client_address(request)}"
    await _limit(platform, key, platform.settings.write_rate_limit)


AnonymousWrite = Depends(limit_anonymous_writes)


async def limit_login(platform: Platform, request: Request, account: str) -> None:
    key = f"login:{client_address(request)}:{account.strip().lower()}"
    await _limit(platform, key, platform.settings.login_rate_limit)


# --- lists ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Paging:
    offset: int
    limit: int


async def get_paging(
    offset: Annotated[int, Query(ge=0, le=10**9, description="Rows to skip.")] = 0,
    limit: Annotated[int, Query(ge=1, le=500, description="Rows per page.")] = 100,
) -> Paging:
    return Paging(offset, limit)


PagingDep = Annotated[Paging, Depends(get_paging)]


def paged(request: Request, response: Response, paging: Paging, total: int) -> None:
    """Lists stay plain JSON arrays (as the Status API defines them); the page is in headers."""
    response.headers["X-Total-Count"] = str(total)
    links = []
    if paging.offset + paging.limit < total:
        nxt = request.url.include_query_params(
            offset=paging.offset + paging.limit, limit=paging.limit
        )
        links.append(f'<{nxt}>; rel="next"')
    if paging.offset > 0:
        prev = request.url.include_query_params(
            offset=max(0, paging.offset - paging.limit), limit=paging.limit
        )
        links.append(f'<{prev}>; rel="prev"')
    if links:
        response.headers["Link"] = ", ".join(links)
