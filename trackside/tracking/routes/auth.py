"""The seed's account routes in dj-rest-auth's shapes (JWT mode), on trackside's accounts.

Registration mails a verification link whose ``token`` is the ``key`` of ``verify-email``;
login answers ``{access, refresh, user}`` and also sets the access token as a cookie (the
browser's way to the location socket and the map); bad input is 400 ``{"field": ["message"]}``.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from trackside.accounts import logins, password_reset
from trackside.accounts import people as accounts
from trackside.api.deps import (
    AnonymousWrite,
    BaseUrl,
    CurrentUser,
    DbDep,
    IssuerDep,
    PlatformDep,
    limit_login,
)
from trackside.errors import Conflict, Forbidden, Invalid, NotFound, Unauthenticated
from trackside.tracking.drf import BAD_REQUEST, NON_FIELD, DrfRoute
from trackside.tracking.schemas import (
    DetailOut,
    JwtLoginOut,
    LoginIn,
    LogoutIn,
    PasswordResetConfirmIn,
    PasswordResetIn,
    RegistrationIn,
    UserOut,
    VerifyEmailIn,
)

router = APIRouter(prefix="/api/auth", tags=["tracking accounts"], route_class=DrfRoute)

AUTH_COOKIE = "trackside-auth"
MISMATCH = "The two password fields didn't match."


def user_out(user: object) -> UserOut:
    return UserOut(pk=user.id, username=user.username, email=user.email)  # type: ignore[attr-defined]


@router.post(
    "/registration/",
    status_code=status.HTTP_201_CREATED,
    response_model=DetailOut,
    responses=BAD_REQUEST,
    dependencies=[AnonymousWrite],
)
async def registration(
    body: RegistrationIn, platform: PlatformDep, db: DbDep, base_url: BaseUrl
) -> DetailOut:
    """Create an account; the verification e-mail carries the key for ``verify-email``."""
    if body.password1 != body.password2:
        raise Invalid("password2", MISMATCH)
    try:
        await accounts.by_username(db, body.username)
    except NotFound:
        pass
    else:
        raise Invalid("username", "A user with that username already exists.")
    try:
        await accounts.register(
            platform,
            db,
            username=body.username,
            email=str(body.email),
            password=body.password1,
            base_url=base_url,
        )
    except Conflict:
        raise Invalid("email", "A user is already registered with this e-mail address.") from None
    return DetailOut(detail="Verification e-mail sent.")


@router.post("/registration/verify-email/", response_model=DetailOut, responses=BAD_REQUEST)
async def verify_email(body: VerifyEmailIn, db: DbDep) -> DetailOut:
    """The key from the verification e-mail (the ``token`` of its link)."""
    try:
        await accounts.verify_email(db, body.key)
    except Invalid as exc:
        raise Invalid("key", exc.message) from None
    return DetailOut(detail="ok")


@router.post("/login/", response_model=JwtLoginOut, responses=BAD_REQUEST)
async def login(
    body: LoginIn,
    request: Request,
    response: Response,
    platform: PlatformDep,
    db: DbDep,
    iss: IssuerDep,
) -> JwtLoginOut:
    """Username (or e-mail) and password → ``{access, refresh, user}``."""
    name = body.username or body.email
    if not name:
        raise Invalid(NON_FIELD, 'Must include "username" or "email" and "password".')
    await limit_login(platform, request, name)
    try:
        pair = await logins.login(platform, db, username=name, password=body.password, iss=iss)
    except Unauthenticated:
        raise Invalid(NON_FIELD, "Unable to log in with provided credentials.") from None
    except Forbidden:
        raise Invalid(NON_FIELD, "E-mail is not verified.") from None
    subject = await platform.tokens.verify(pair.access)
    user = await accounts.get(db, int(subject.key))
    response.set_cookie(
        AUTH_COOKIE,
        pair.access,
        max_age=pair.expires_in,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return JwtLoginOut(access=pair.access, refresh=pair.refresh, user=user_out(user))


@router.post("/logout/", response_model=DetailOut, responses=BAD_REQUEST)
async def logout(response: Response, db: DbDep, body: LogoutIn | None = None) -> DetailOut:
    """Forget the cookie; a ``refresh`` token sent along ends that login everywhere."""
    if body is not None and body.refresh:
        await logins.logout(db, body.refresh)
    response.delete_cookie(AUTH_COOKIE)
    return DetailOut(detail="Successfully logged out.")


@router.post(
    "/password/reset/",
    response_model=DetailOut,
    responses=BAD_REQUEST,
    dependencies=[AnonymousWrite],
)
async def password_reset_request(
    body: PasswordResetIn, platform: PlatformDep, db: DbDep, base_url: BaseUrl
) -> DetailOut:
    """Mail a reset link (its ``token`` is what ``confirm`` takes); the same answer either way."""
    await password_reset.request(platform, db, email=str(body.email), base_url=base_url)
    return DetailOut(detail="Password reset e-mail has been sent.")


@router.post(
    "/password/reset/confirm/",
    response_model=DetailOut,
    responses=BAD_REQUEST,
    dependencies=[AnonymousWrite],
)
async def password_reset_confirm(
    body: PasswordResetConfirmIn, platform: PlatformDep, db: DbDep
) -> DetailOut:
    """``token`` from the e-mailed link and the new password twice (``uid`` is accepted and
    not needed: the token names the account)."""
    if body.new_password1 != body.new_password2:
        raise Invalid("new_password2", MISMATCH)
    await password_reset.confirm(platform, db, token=body.token, password=body.new_password1)
    return DetailOut(detail="Password has been reset with the new password.")


@router.get("/user/", response_model=UserOut)
async def user(principal: CurrentUser, db: DbDep) -> UserOut:
    """The logged-in account (send its access token as ``Bearer``)."""
    return user_out(await accounts.get(db, principal.id))
