"""Password reset by e-mail: a one-time link; using it logs out every session of the account."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from trackside.accounts import email_tokens, logins
from trackside.accounts.models import User
from trackside.platform import Platform
from trackside.store.base import utcnow

log = logging.getLogger("trackside.accounts")


async def request(platform: Platform, db: AsyncSession, *, email: str, base_url: str) -> None:
    """Mail a reset link if the address has an account; say nothing either way."""
    user = await db.scalar(select(User).where(User.email == email.lower()))
    if user is None or not user.is_active:
        log.info("password reset asked for an address with no account")
        return
    token = email_tokens.issue(db, user, email_tokens.RESET, platform.settings.password_reset_ttl_s)
    await db.commit()
    base = (platform.settings.public_url or base_url).rstrip("/")
    link = f"{base}/auth/password-reset/confirm?token={token}"
    await platform.mailer.send(
        user.email,
        "Reset your trackside password",
        f"Hello {user.username},\n\nsomeone asked to reset your trackside password. To choose a "
        f"new one, send it with the token in this link (valid for "
        f"{platform.settings.password_reset_ttl_s // 60} minutes):\n\n{link}\n\n"
        "If it was not you, ignore this message; your password stays as it is.\n",
    )


async def check(db: AsyncSession, token: str) -> None:
    await email_tokens.peek(db, token, email_tokens.RESET)


async def confirm(platform: Platform, db: AsyncSession, *, token: str, password: str) -> None:
    user = await email_tokens.redeem(db, token, email_tokens.RESET)
    user.password_hash = await platform.passwords.hash(password)
    if user.email_verified_at is None:  # the link reached the address, which verifies it
        user.email_verified_at = utcnow()
    await logins.revoke_all(db, user.id)
    await db.commit()
