"""One-time tokens sent by e-mail (address verification, password reset): issue and redeem."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from trackside.accounts import opaque
from trackside.accounts.models import EmailToken, User
from trackside.errors import Invalid
from trackside.store.base import utcnow

VERIFY = "verify"
RESET = "reset"


def issue(db: AsyncSession, user: User, purpose: str, ttl_s: int) -> str:
    token = opaque.new_token()
    db.add(
        EmailToken(
            token_hash=opaque.digest(token),
            user_id=user.id,
            purpose=purpose,
            expires_at=utcnow() + timedelta(seconds=ttl_s),
        )
    )
    return token


async def peek(db: AsyncSession, token: str, purpose: str) -> EmailToken:
    """The live token, unredeemed; ``Invalid`` if unknown, used or expired."""
    row = await db.scalar(
        select(EmailToken).where(
            EmailToken.token_hash == opaque.digest(token), EmailToken.purpose == purpose
        )
    )
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        raise Invalid("token", "the link is invalid, used or expired")
    return row


async def redeem(db: AsyncSession, token: str, purpose: str) -> User:
    """Mark the token used (atomically: a second redeem of the same token fails)."""
    row = await peek(db, token, purpose)
    result = await db.execute(
        update(EmailToken)
        .where(EmailToken.id == row.id, EmailToken.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Invalid("token", "the link is invalid, used or expired")
    user = await db.get(User, row.user_id)
    if user is None or not user.is_active:
        raise Invalid("token", "the account is gone or disabled")
    return user
