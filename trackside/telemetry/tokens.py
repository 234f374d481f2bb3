"""API tokens for loggers and collectors: made by a level-5 account, shown once, kept as digests.

A token acts as the account that made it, with the account's level as it is at each use: an
account lowered below level 5 stops writing through its tokens at once.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from trackside.accounts import opaque, principals
from trackside.accounts import people as accounts
from trackside.accounts.roles import Principal
from trackside.errors import NotFound, Unauthenticated
from trackside.store.base import utcnow
from trackside.telemetry.models import TelemetryToken

PREFIX = "tsk_"  # tells an API token from a JWT at a glance


def is_api_token(credential: str) -> bool:
    return credential.startswith(PREFIX)


async def create(db: AsyncSession, user_id: int, name: str) -> tuple[TelemetryToken, str]:
    token = PREFIX + opaque.new_token()
    row = TelemetryToken(user_id=user_id, name=name, token_digest=opaque.digest(token))
    db.add(row)
    await db.commit()
    return row, token


async def list_for(db: AsyncSession, user_id: int) -> list[TelemetryToken]:
    rows = await db.scalars(
        select(TelemetryToken)
        .where(TelemetryToken.user_id == user_id, TelemetryToken.revoked_at.is_(None))
        .order_by(TelemetryToken.id)
    )
    return list(rows.all())


async def revoke(db: AsyncSession, user_id: int, token_id: int) -> None:
    done = await db.execute(
        update(TelemetryToken)
        .where(
            TelemetryToken.id == token_id,
            TelemetryToken.user_id == user_id,
            TelemetryToken.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow())
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise NotFound(f"no API token {token_id}")
    await db.commit()


async def principal_for(db: AsyncSession, token: str) -> Principal:
    """The account an API token acts for, as it is stored now."""
    row = await db.scalar(
        select(TelemetryToken).where(TelemetryToken.token_digest == opaque.digest(token))
    )
    if row is None or row.revoked_at is not None:
        raise Unauthenticated("unknown or revoked API token")
    try:
        user = await accounts.get(db, row.user_id)
    except NotFound:
        raise Unauthenticated("the token's account is gone") from None
    if not user.is_active:
        raise Unauthenticated("the token's account is disabled")
    return principals.user_principal(user)
