"""Background sync: every ``TRACKSIDE_IRACING_SYNC_INTERVAL_MIN`` minutes (0, the default, is
off), each connected account not waiting for a reconnect is synced in turn. The Data API's
rate gate is shared by every user, so a spent limit ends the round: the rest wait for the next
one rather than call iRacing meanwhile."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from trackside.errors import ServiceError
from trackside.iracing import sync as syncing
from trackside.iracing.connections import IRacing
from trackside.iracing.data_api import DataApiError
from trackside.iracing.models import IracingAccount
from trackside.iracing.oauth import OAuthError

log = logging.getLogger("trackside.iracing")


@dataclass(slots=True)
class Round:
    synced_accounts: int = 0
    failed_accounts: int = 0
    rate_limited: bool = False


class BackgroundSync:
    def __init__(self, db_factory: async_sessionmaker[AsyncSession], iracing: IRacing) -> None:
        self._db_factory = db_factory
        self._iracing = iracing
        self._task: asyncio.Task[None] | None = None
        self.rounds = 0

    @property
    def interval_s(self) -> float:
        return self._iracing.settings.iracing_sync_interval_min * 60

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        if self.interval_s <= 0 or not self._iracing.configured or self.running:
            return
        self._task = asyncio.create_task(self._loop(), name="iracing-background-sync")

    async def _loop(self) -> None:
        while True:
            try:
                await self.round()
            except Exception:  # a bad round is logged; the next one still comes
                log.exception("iRacing background sync round failed")
            await asyncio.sleep(self.interval_s)

    async def round(self) -> Round:
        """Sync every connected account once (oldest sync first)."""
        self.rounds += 1
        done = Round()
        async with self._db_factory() as db:
            users = (
                await db.scalars(
                    select(IracingAccount.user_id)
                    .where(IracingAccount.needs_reconnect.is_(False))
                    .order_by(IracingAccount.last_synced_at.asc().nulls_first())
                )
            ).all()
        for user_id in users:
            if self._iracing.gate.wait_s() > self._iracing.settings.iracing_rate_limit_wait_s:
                done.rate_limited = True
                break
            try:
                async with self._db_factory() as db:
                    report = await syncing.sync(self._iracing, db, user_id)
            except (ServiceError, DataApiError, OAuthError) as exc:
                done.failed_accounts += 1
                log.info("iRacing background sync of user %s: %s", user_id, exc)
                continue
            done.synced_accounts += 1
            if report.rate_limited_for_s is not None:
                done.rate_limited = True
                break
        return done

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
