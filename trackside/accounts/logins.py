"""Logging in and staying logged in: access tokens plus rotating refresh-token families.

Each refresh hands out a new refresh token and spends the old one. Presenting a spent token
again means it was copied, so the whole family (every token descended from that login) dies.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from trackside.accounts import opaque, people
from trackside.accounts.models import RefreshToken, User
from trackside.accounts.principals import user_grants
from trackside.errors import Forbidden, Unauthenticated
from trackside.platform import Platform
from trackside.store.base import utcnow


@dataclass(frozen=True, slots=True)
class TokenPair:
    access: str
    refresh: str
    expires_in: int


async def login(
    platform: Platform, db: AsyncSession, *, username: str, password: str, iss: str
) -> TokenPair:
    """Check the password (username or e-mail address), then open a new token family."""
    name = username.strip().lower()
    user = await db.scalar(
        select(User).where(or_(func.lower(User.username) == name, User.email == name))
    )
    ok = await platform.passwords.verify(user.password_hash if user else None, password)
    if user is None or not ok or not user.is_active:
        raise Unauthenticated("wrong username or password")
    if user.email_verified_at is None and people.has_email(user):
        raise Forbidden("confirm your e-mail address first (see the link we sent)")
    if platform.passwords.needs_rehash(user.password_hash):
        user.password_hash = await platform.passwords.hash(password)
    pair = _issue(platform, db, user, uuid.uuid4().hex, iss)
    await db.commit()
    return pair


async def refresh(platform: Platform, db: AsyncSession, *, token: str, iss: str) -> TokenPair:
    row = await db.scalar(
        select(RefreshToken).where(RefreshToken.token_hash == opaque.digest(token))
    )
    if row is None:
        raise Unauthenticated("unknown refresh token")
    now = utcnow()
    if row.revoked_at is not None or row.used_at is not None:
        await revoke_family(db, row.family_id)
        await db.commit()
        raise Unauthenticated("refresh token already used; every session from it is logged out")
    if row.expires_at <= now:
        raise Unauthenticated("refresh token expired")
    spent = await db.execute(
        update(RefreshToken)
        .where(RefreshToken.id == row.id, RefreshToken.used_at.is_(None))
        .values(used_at=now)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]  # a concurrent refresh won the race
        await revoke_family(db, row.family_id)
        await db.commit()
        raise Unauthenticated("refresh token already used; every session from it is logged out")
    user = await db.get(User, row.user_id)
    if user is None or not user.is_active:
        raise Unauthenticated("account not found or disabled")
    pair = _issue(platform, db, user, row.family_id, iss)
    await db.commit()
    return pair


async def revoke_family(db: AsyncSession, family_id: str) -> None:
    await db.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


async def revoke_all(db: AsyncSession, user_id: int) -> None:
    await db.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def _issue(platform: Platform, db: AsyncSession, user: User, family_id: str, iss: str) -> TokenPair:
    settings = platform.settings
    token = opaque.new_token()
    db.add(
        RefreshToken(
            token_hash=opaque.digest(token),
            family_id=family_id,
            user_id=user.id,
            expires_at=utcnow() + timedelta(seconds=settings.refresh_token_ttl_s),
        )
    )
    return TokenPair(access_token(platform, user, iss), token, settings.access_token_ttl_s)


def access_token(platform: Platform, user: User, iss: str, now: datetime | None = None) -> str:
    """An access token carrying the account's current grants and telemetry level."""
    return platform.tokens.for_user(
        user_id=user.id,
        username=user.username,
        email=user.email,
        grants=user_grants(user.grants),
        telemetry_level=user.telemetry_level,
        iss=iss,
        now=now,
    )
