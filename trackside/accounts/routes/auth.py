"""People: register, verify, log in, refresh, who am I, reset a password.

Besides ``/auth/*`` the shapes other clients already speak are served too: ``/api/token/`` and
``/api/token/refresh/`` (SimpleJWT), ``/login`` and ``/me`` (the telemetry platform's).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from trackside.accounts import logins, password_reset
from trackside.accounts import people as accounts
from trackside.accounts.logins import TokenPair
from trackside.accounts.roles import Principal
from trackside.accounts.schemas import (
    BearerOut,
    EmailIn,
    LoginIn,
    MeOut,
    OpenRegisterIn,
    RefreshIn,
    RegisterIn,
    ResetConfirmIn,
    StatusOut,
    TokenPairOut,
)
from trackside.api.deps import (
    AnonymousWrite,
    BaseUrl,
    CurrentUser,
    DbDep,
    IssuerDep,
    PlatformDep,
    limit_login,
)
from trackside.api.openapi import raises
from trackside.platform import Platform

router = APIRouter(tags=["accounts"])

ONE_TIME_TOKEN = Annotated[str, Query(min_length=1, max_length=512)]


@router.post(
    "/auth/register",
    status_code=status.HTTP_201_CREATED,
    response_model=MeOut,
    dependencies=[AnonymousWrite],
)
@raises(409)  # the username or e-mail address is taken
async def register(body: RegisterIn, platform: PlatformDep, db: DbDep, base_url: BaseUrl) -> MeOut:
    """Create an account; a link to verify the e-mail address is sent to it."""
    user = await accounts.register(
        platform,
        db,
        username=body.username,
        email=str(body.email),
        password=body.password,
        base_url=base_url,
    )
    return MeOut.of(user)


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    response_model=MeOut,
    responses={409: {"description": "The username is taken"}},
    dependencies=[AnonymousWrite],
)
async def register_open(body: OpenRegisterIn, platform: PlatformDep, db: DbDep) -> MeOut:
    """The telemetry platform's register: no e-mail address, level 1, logs in at once."""
    user = await accounts.register_without_email(
        platform, db, username=body.username, password=body.password
    )
    return MeOut.of(user)


@router.get("/auth/verify", response_model=StatusOut)
async def verify(token: ONE_TIME_TOKEN, db: DbDep) -> StatusOut:
    """The link in the verification e-mail."""
    user = await accounts.verify_email(db, token)
    return StatusOut(status="verified", detail=f"{user.email} is confirmed; you can log in now")


async def _login(
    body: LoginIn, request: Request, platform: Platform, db: DbDep, iss: str
) -> TokenPair:
    await limit_login(platform, request, body.username)
    return await logins.login(platform, db, username=body.username, password=body.password, iss=iss)


def _pair(pair: TokenPair) -> TokenPairOut:
    return TokenPairOut(access=pair.access, refresh=pair.refresh, expires_in=pair.expires_in)


@router.post("/auth/login", response_model=TokenPairOut)
@raises(401, 429)
async def login(
    body: LoginIn, request: Request, platform: PlatformDep, db: DbDep, iss: IssuerDep
) -> TokenPairOut:
    """Username (or e-mail address) and password → ``{access, refresh}``."""
    return _pair(await _login(body, request, platform, db, iss))


@router.post("/api/token/", response_model=TokenPairOut)
@raises(401, 429)
async def api_token(
    body: LoginIn, request: Request, platform: PlatformDep, db: DbDep, iss: IssuerDep
) -> TokenPairOut:
    """The SimpleJWT shape of ``/auth/login``."""
    return _pair(await _login(body, request, platform, db, iss))


@router.post("/login", response_model=BearerOut)
@raises(401, 429)
async def login_bearer(
    body: LoginIn, request: Request, platform: PlatformDep, db: DbDep, iss: IssuerDep
) -> BearerOut:
    """The ``{access_token, token_type}`` shape of ``/auth/login``."""
    pair = await _login(body, request, platform, db, iss)
    return BearerOut(
        access_token=pair.access, refresh_token=pair.refresh, expires_in=pair.expires_in
    )


async def _refresh(body: RefreshIn, platform: Platform, db: DbDep, iss: str) -> TokenPairOut:
    pair = await logins.refresh(platform, db, token=body.refresh, iss=iss)
    return _pair(pair)


@router.post("/auth/refresh", response_model=TokenPairOut, dependencies=[AnonymousWrite])
@raises(401)  # unknown, spent or expired refresh token
async def refresh(
    body: RefreshIn, platform: PlatformDep, db: DbDep, iss: IssuerDep
) -> TokenPairOut:
    """Spend a refresh token for a new pair; a spent one presented again ends its family."""
    return await _refresh(body, platform, db, iss)


@router.post("/api/token/refresh/", response_model=TokenPairOut, dependencies=[AnonymousWrite])
@raises(401)
async def api_token_refresh(
    body: RefreshIn, platform: PlatformDep, db: DbDep, iss: IssuerDep
) -> TokenPairOut:
    """The SimpleJWT shape of ``/auth/refresh`` (rotating: a new refresh comes back too)."""
    return await _refresh(body, platform, db, iss)


async def _load_me(db: DbDep, principal: Principal) -> MeOut:
    return MeOut.of(await accounts.get(db, principal.id))


@router.get("/auth/me", response_model=MeOut)
async def me(principal: CurrentUser, db: DbDep) -> MeOut:
    """The logged-in account, its roles and its telemetry level."""
    return await _load_me(db, principal)


@router.get("/me", response_model=MeOut)
async def me_short(principal: CurrentUser, db: DbDep) -> MeOut:
    """Same as ``/auth/me``."""
    return await _load_me(db, principal)


@router.post(
    "/auth/password-reset",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=StatusOut,
    dependencies=[AnonymousWrite],
)
async def request_reset(
    body: EmailIn, platform: PlatformDep, db: DbDep, base_url: BaseUrl
) -> StatusOut:
    """Mail a reset link to the address if it has an account (the answer is the same if not)."""
    await password_reset.request(platform, db, email=str(body.email), base_url=base_url)
    return StatusOut(
        status="accepted", detail="if the address has an account, a link is on its way"
    )


@router.get("/auth/password-reset/confirm", response_model=StatusOut)
async def check_reset(token: ONE_TIME_TOKEN, db: DbDep) -> StatusOut:
    """The link in the reset e-mail: says whether the token is still good."""
    await password_reset.check(db, token)
    return StatusOut(
        status="valid",
        detail="POST this token with your new password to /auth/password-reset/confirm",
    )


@router.post(
    "/auth/password-reset/confirm", response_model=StatusOut, dependencies=[AnonymousWrite]
)
async def confirm_reset(body: ResetConfirmIn, platform: PlatformDep, db: DbDep) -> StatusOut:
    """Set the new password; every session of the account is logged out."""
    await password_reset.confirm(platform, db, token=body.token, password=body.password)
    return StatusOut(status="changed", detail="password changed; log in with the new one")
