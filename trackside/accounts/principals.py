"""Turn a verified token into the principal it names, with the grants stored right now.

Reading the account on each request makes role changes and revocations take effect at once;
``CallerCache`` trades that for speed on the relay's hot path (within seconds).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from trackside.accounts.models import MachineClient, RoleGrant, User
from trackside.accounts.roles import Grant, Principal, Role
from trackside.accounts.tokens import TokenIssuer, TokenSubject
from trackside.errors import Unauthenticated


def user_grants(grants: list[RoleGrant]) -> tuple[Grant, ...]:
    return tuple(Grant(Role(g.role), g.organization_id, g.event_id) for g in grants)


def client_grant(client: MachineClient) -> Grant:
    return Grant(Role(client.role), client.organization_id, client.event_id)


def user_principal(user: User) -> Principal:
    return Principal("user", user.id, user.username, user_grants(user.grants), user.telemetry_level)


async def load_principal(db: AsyncSession, subject: TokenSubject) -> Principal:
    if subject.kind == "user":
        user = await db.get(User, int(subject.key)) if subject.key.isdigit() else None
        if user is None or not user.is_active:
            raise Unauthenticated("account not found or disabled")
        return user_principal(user)
    client = await db.scalar(select(MachineClient).where(MachineClient.client_id == subject.key))
    if client is None or client.revoked_at is not None:
        raise Unauthenticated("client not found or revoked")
    return Principal("client", client.id, client.client_id, (client_grant(client),))


RECHECK_S = 5.0  # how long a cached caller is believed before token and account are read again
MAX_CACHED = 10_000


@dataclass(slots=True)
class Caller:
    """A bearer token verified, the principal it names, and what it was allowed since."""

    principal: Principal
    expires_at: float  # the token's exp (seconds since 1970)
    checked_at: float  # monotonic seconds
    allowed: dict[Any, Any] = field(default_factory=dict)  # checks made for it, by key


class CallerCache:
    """Callers by bearer token, for hot paths that see one token many times a second (a relay
    posting batches while live): the signature, the account and what it may do to an event are
    read once per ``recheck_s``, not once per request, and never past the token's expiry. A
    revoked client or a disabled account is refused within ``recheck_s``.
    """

    def __init__(
        self,
        recheck_s: float = RECHECK_S,
        limit: int = MAX_CACHED,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.recheck_s = recheck_s
        self.limit = limit
        self._clock = clock
        self._callers: dict[str, Caller] = {}

    async def caller(self, token: str, tokens: TokenIssuer, db: AsyncSession) -> Caller:
        """Raises InvalidToken or Unauthenticated as verifying and loading would."""
        now = self._clock()
        known = self._callers.get(token)
        if known is not None:
            if now - known.checked_at < self.recheck_s and time.time() < known.expires_at:
                return known
            del self._callers[token]
        subject = await tokens.verify(token)
        principal = await load_principal(db, subject)
        caller = Caller(principal, float(subject.claims["exp"]), now)
        while len(self._callers) >= self.limit:
            del self._callers[next(iter(self._callers))]
        self._callers[token] = caller
        return caller
