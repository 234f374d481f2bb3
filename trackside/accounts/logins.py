"""Logging in and staying logged in: access tokens plus rotating refresh-token families.

Each refresh hands out a new refresh token and spends the old one. Presenting a spent token
again means it was copied, so the whole family (every token descended from that login) dies.
One exception: a client whose reply was lost retries with the token it still holds. Within
``refresh_grace_s`` of spending it, while the token that reply carried is still unused, the
retry gets a fresh pair and the lost token is revoked — once; a second retry is a replay.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

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
    pair = _issue(platform, db, user, uuid.uuid4().hex, iss, await claims_of(platform, db, user))
    await db.commit()
    return pair


async def refresh(platform: Platform, db: AsyncSession, *, token: str, iss: str) -> TokenPair:
    row = await db.scalar(
        select(RefreshToken).where(RefreshToken.token_hash == opaque.digest(token))
    )
    if row is None:
        raise Unauthenticated("unknown refresh token")
    now = utcnow()
    retry = row.revoked_at is None and row.used_at is not None
    if retry and await _lost_reply(platform, db, row, now):
        return await _reissue(platform, db, row, iss)
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
    return await _reissue(platform, db, row, iss)


async def _reissue(platform: Platform, db: AsyncSession, row: RefreshToken, iss: str) -> TokenPair:
    user = await db.get(User, row.user_id)
    if user is None or not user.is_active:
        raise Unauthenticated("account not found or disabled")
    pair = _issue(platform, db, user, row.family_id, iss, await claims_of(platform, db, user))
    await db.commit()
    return pair


async def _lost_reply(
    platform: Platform, db: AsyncSession, row: RefreshToken, now: datetime
) -> bool:
    """True (and the unseen successor revoked) if this spent token is a retry after a lost
    reply: spent moments ago, and the token it was exchanged for never used nor revoked."""
    assert row.used_at is not None
    if now - row.used_at > timedelta(seconds=platform.settings.refresh_grace_s):
        return False
    successor = await db.scalar(
        select(RefreshToken)
        .where(RefreshToken.family_id == row.family_id, RefreshToken.id > row.id)
        .order_by(RefreshToken.id)
        .limit(1)
    )
    if successor is None:
        return False
    revoked = await db.execute(
        update(RefreshToken)
        .where(
            RefreshToken.id == successor.id,
            RefreshToken.used_at.is_(None),
            RefreshToken.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    return revoked.rowcount == 1  # type: ignore[attr-defined]  # else used, or retried already


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


async def claims_of(platform: Platform, db: AsyncSession, user: User) -> dict[str, Any]:
    """What packages add to the account's access token (``Platform.claim_sources``)."""
    claims: dict[str, Any] = {}
    for source in platform.claim_sources:
        claims.update(await source(db, user.id))
    return claims


def _issue(
    platform: Platform,
    db: AsyncSession,
    user: User,
    family_id: str,
    iss: str,
    claims: dict[str, Any] | None = None,
) -> TokenPair:
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
    access = access_token(platform, user, iss, claims=claims)
    return TokenPair(access, token, settings.access_token_ttl_s)


def access_token(
    platform: Platform,
    user: User,
    iss: str,
    now: datetime | None = None,
    claims: dict[str, Any] | None = None,
) -> str:
    """An access token carrying the account's current grants and telemetry level, and what
    packages add (``claims``)."""
    return platform.tokens.for_user(
        user_id=user.id,
        username=user.username,
        email=user.email,
        grants=user_grants(user.grants),
        telemetry_level=user.telemetry_level,
        iss=iss,
        now=now,
        extra=claims,
    )


async def logout(db: AsyncSession, token: str) -> bool:
    """End the login a refresh token belongs to (its whole family); False if unknown."""
    row = await db.scalar(
        select(RefreshToken).where(RefreshToken.token_hash == opaque.digest(token))
    )
    if row is None:
        return False
    await revoke_family(db, row.family_id)
    await db.commit()
    return True
