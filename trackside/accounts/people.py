"""Accounts: create (CLI) or register (API, with e-mail verification), list, roles, level."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from trackside.accounts import email_tokens
from trackside.accounts.models import RoleGrant, User
from trackside.accounts.roles import (
    TELEMETRY_MAX_LEVEL,
    TELEMETRY_MIN_LEVEL,
    Role,
    ScopeError,
    check_scope,
)
from trackside.errors import Conflict, Invalid, NotFound
from trackside.events import service as events
from trackside.platform import Platform
from trackside.store.base import utcnow


async def _check_free(db: AsyncSession, username: str, email: str) -> None:
    taken = await db.scalar(
        select(User.username).where(func.lower(User.username) == username.lower())
    )
    if taken is not None:
        raise Conflict(f"username {username!r} is taken", "username")
    if await db.scalar(select(User.id).where(User.email == email.lower())) is not None:
        raise Conflict("an account with this e-mail address exists", "email")


async def create(
    platform: Platform,
    db: AsyncSession,
    *,
    username: str,
    email: str,
    password: str,
    verified: bool,
    telemetry_level: int = TELEMETRY_MIN_LEVEL,
) -> User:
    await _check_free(db, username, email)
    _check_level(telemetry_level)
    user = User(
        username=username,
        email=email.lower(),
        password_hash=await platform.passwords.hash(password),
        email_verified_at=utcnow() if verified else None,
        telemetry_level=telemetry_level,
        grants=[],
    )
    db.add(user)
    await db.flush()
    return user


async def register(
    platform: Platform,
    db: AsyncSession,
    *,
    username: str,
    email: str,
    password: str,
    base_url: str,
) -> User:
    """Create an unverified account and mail its owner the link that verifies it."""
    user = await create(
        platform, db, username=username, email=email, password=password, verified=False
    )
    token = email_tokens.issue(db, user, email_tokens.VERIFY, platform.settings.verify_email_ttl_s)
    await db.commit()
    link = f"{_base(platform, base_url)}/auth/verify?token={token}"
    await platform.mailer.send(
        user.email,
        "Confirm your trackside e-mail address",
        f"Hello {user.username},\n\nopen this link to confirm your e-mail address:\n\n{link}\n\n"
        "If you did not register at trackside, ignore this message.\n",
    )
    return user


# Accounts registered the telemetry platform's way (``POST /register``) have no e-mail address;
# they keep a per-account address under the reserved ``.invalid`` domain (RFC 2606), which no
# real address and no registration with an address can take (e-mail validation refuses it).
NO_EMAIL_DOMAIN = "no-email.invalid"


def has_email(user: User) -> bool:
    return not user.email.endswith("@" + NO_EMAIL_DOMAIN)


async def register_without_email(
    platform: Platform, db: AsyncSession, *, username: str, password: str
) -> User:
    """The telemetry platform's register: level 1, no address, able to log in at once."""
    user = await create(
        platform,
        db,
        username=username,
        email=f"{username.lower()}@{NO_EMAIL_DOMAIN}",
        password=password,
        verified=False,
    )
    await db.commit()
    return user


async def verify_email(db: AsyncSession, token: str) -> User:
    user = await email_tokens.redeem(db, token, email_tokens.VERIFY)
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
    await db.commit()
    return user


def _base(platform: Platform, base_url: str) -> str:
    return (platform.settings.public_url or base_url).rstrip("/")


async def get(db: AsyncSession, user_id: int) -> User:
    user = await db.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    return user


async def by_username(db: AsyncSession, username: str) -> User:
    user = await db.scalar(select(User).where(func.lower(User.username) == username.lower()))
    if user is None:
        raise NotFound(f"no user {username!r}")
    return user


async def list_all(db: AsyncSession, *, offset: int = 0, limit: int | None = None) -> list[User]:
    query = select(User).order_by(User.id).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return list((await db.scalars(query)).all())


async def count(db: AsyncSession) -> int:
    return int(await db.scalar(select(func.count()).select_from(User)) or 0)


async def check_scope_targets(
    db: AsyncSession, role: Role, organization_id: int | None, event_id: int | None
) -> None:
    """The role fits its scope, and the organization or event it names exists."""
    try:
        check_scope(role, organization_id, event_id)
    except ScopeError as exc:
        raise Invalid("role", str(exc)) from None
    if organization_id is not None and not await events.organization_exists(db, organization_id):
        raise Invalid("organizationId", f"no organization {organization_id}")
    if event_id is not None and not await events.event_exists(db, event_id):
        raise Invalid("eventId", f"no event {event_id}")


async def grant(
    db: AsyncSession,
    user: User,
    role: Role,
    *,
    organization_id: int | None = None,
    event_id: int | None = None,
) -> RoleGrant:
    await check_scope_targets(db, role, organization_id, event_id)
    for existing in user.grants:
        if (existing.role, existing.organization_id, existing.event_id) == (
            role.value,
            organization_id,
            event_id,
        ):
            return existing
    row = RoleGrant(role=role.value, organization_id=organization_id, event_id=event_id)
    user.grants.append(row)
    await db.flush()
    return row


async def revoke(
    db: AsyncSession,
    user: User,
    role: Role,
    *,
    organization_id: int | None = None,
    event_id: int | None = None,
) -> bool:
    for existing in list(user.grants):
        if (existing.role, existing.organization_id, existing.event_id) == (
            role.value,
            organization_id,
            event_id,
        ):
            user.grants.remove(existing)
            await db.flush()
            return True
    return False


async def revoke_grant(db: AsyncSession, user: User, grant_id: int) -> None:
    for existing in list(user.grants):
        if existing.id == grant_id:
            user.grants.remove(existing)
            await db.flush()
            return
    raise NotFound(f"user {user.username!r} has no grant {grant_id}")


def _check_level(level: int) -> None:
    if not TELEMETRY_MIN_LEVEL <= level <= TELEMETRY_MAX_LEVEL:
        raise Invalid(
            "telemetryLevel",
            f"telemetry level must be {TELEMETRY_MIN_LEVEL}…{TELEMETRY_MAX_LEVEL}",
        )


async def set_level(db: AsyncSession, user: User, level: int) -> None:
    _check_level(level)
    user.telemetry_level = level
    await db.flush()


# --- administration (the /users routes): each change is its own transaction ----------------


async def grant_role(
    db: AsyncSession,
    user_id: int,
    role: Role,
    *,
    organization_id: int | None = None,
    event_id: int | None = None,
) -> User:
    user = await get(db, user_id)
    await grant(db, user, role, organization_id=organization_id, event_id=event_id)
    await db.commit()
    return user


async def revoke_role(db: AsyncSession, user_id: int, grant_id: int) -> User:
    user = await get(db, user_id)
    await revoke_grant(db, user, grant_id)
    await db.commit()
    return user


async def change_level(db: AsyncSession, user_id: int, level: int) -> User:
    user = await get(db, user_id)
    await set_level(db, user, level)
    await db.commit()
    return user


async def usernames(db: AsyncSession, user_ids: Iterable[int]) -> dict[int, str]:
    """The usernames of these accounts, by id (unknown ids are left out)."""
    ids = set(user_ids)
    if not ids:
        return {}
    rows = await db.execute(select(User.id, User.username).where(User.id.in_(ids)))
    return {user_id: name for user_id, name in rows.all()}
