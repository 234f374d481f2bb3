"""Turn a verified token into the principal it names, with the grants stored right now.

Reading the account on each request makes role changes and revocations take effect at once;
``CallerCache`` trades that for speed on the relay's hot path (within seconds).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
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

# A check made for a caller, kept to be made again when the caller is: the principal and a
# database session in, the answer out (or the refusal raised).
Check = Callable[[Principal, AsyncSession], Awaitable[Any]]


@dataclass(slots=True)
class Caller:
    """A bearer token verified, the principal it names, and what it was allowed since."""

    principal: Principal
    expires_at: float  # the token's exp (seconds since 1970)
    checked_at: float  # monotonic seconds
    allowed: dict[Any, Any] = field(default_factory=dict)  # answers of checks made, by key
    checks: dict[Any, Check] = field(default_factory=dict)  # those checks, by the same key

    async def allow(self, key: Any, check: Check, db: AsyncSession) -> Any:
        """The answer of ``check`` for this caller, made once and then kept (and made again
        with the caller's own recheck)."""
        if key in self.allowed:
            return self.allowed[key]
        answer = self.allowed[key] = await check(self.principal, db)
        self.checks[key] = check
        return answer


class CallerCache:
    """Callers by bearer token, for hot paths that see one token many times a second (a relay
    posting batches while live): the signature, the account and the checks made for it (what it
    may do to an event) are read once per ``recheck_s``, not once per request, and never past
    the token's expiry. A caller older than ``recheck_s`` is still served while it is read
    again in the background, so no request waits for that; one older than twice that is read
    again before it is served. A revoked client or a disabled account is refused within
    ``2 * recheck_s`` (within ``recheck_s`` and one request while it keeps posting).
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
        self._rechecks: dict[str, asyncio.Task[None]] = {}

    async def caller(
        self,
        token: str,
        tokens: TokenIssuer,
        db_factory: Callable[[], AbstractAsyncContextManager[AsyncSession]],
    ) -> Caller:
        """Raises InvalidToken or Unauthenticated as verifying and loading would."""
        known = self.cached(token, tokens, db_factory)
        if known is not None:
            return known
        self._callers.pop(token, None)  # too old or expired: not kept if the read refuses it
        async with db_factory() as db:
            return self._keep(token, await self._read(token, tokens, db))

    def cached(
        self,
        token: str,
        tokens: TokenIssuer,
        db_factory: Callable[[], AbstractAsyncContextManager[AsyncSession]],
    ) -> Caller | None:
        """The caller if it may be served from the cache (read again in the background if it
        is due); None if it must be read first."""
        known = self._callers.get(token)
        if known is None or time.time() >= known.expires_at:
            return None
        age = self._clock() - known.checked_at
        if age < self.recheck_s:
            return known
        if age >= 2 * self.recheck_s:
            return None
        if token not in self._rechecks:
            self._rechecks[token] = asyncio.create_task(
                self._recheck(token, tokens, db_factory, known)
            )
        return known

    async def _read(
        self, token: str, tokens: TokenIssuer, db: AsyncSession, known: Caller | None = None
    ) -> Caller:
        now = self._clock()
        subject = await tokens.verify(token)
        caller = Caller(await load_principal(db, subject), float(subject.claims["exp"]), now)
        if known is not None:
            for key, check in known.checks.items():
                try:
                    await caller.allow(key, check, db)
                except Exception:  # refused now: the next request asks again, and is told
                    caller.allowed.pop(key, None)
        return caller

    async def _recheck(
        self,
        token: str,
        tokens: TokenIssuer,
        db_factory: Callable[[], AbstractAsyncContextManager[AsyncSession]],
        known: Caller,
    ) -> None:
        try:
            async with db_factory() as db:
                caller = await self._read(token, tokens, db, known)
        except Exception:  # refused (or unreadable): the next request reads it itself
            if self._callers.get(token) is known:
                del self._callers[token]
        else:
            if self._callers.get(token) is known:
                self._keep(token, caller)
        finally:
            self._rechecks.pop(token, None)

    def _keep(self, token: str, caller: Caller) -> Caller:
        self._callers.pop(token, None)
        while len(self._callers) >= self.limit:
            del self._callers[next(iter(self._callers))]
        self._callers[token] = caller
        return caller
