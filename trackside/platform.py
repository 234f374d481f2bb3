"""Everything a running trackside holds once: settings, database, keys, mail, limits.

The API's lifespan and the CLI both start one, so they share one way to reach the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from trackside.accounts.keys import KeyRing
from trackside.accounts.mail import Mailer
from trackside.accounts.passwords import Passwords
from trackside.accounts.principals import CallerCache
from trackside.accounts.ratelimit import InMemoryRateLimiter, RateLimiter, RedisRateLimiter
from trackside.accounts.tokens import TokenIssuer
from trackside.config import Settings
from trackside.controllog.poller import ControlLogPoller
from trackside.controllog.service import ControlLogs
from trackside.events.classification import Desk
from trackside.events.ingest import EventLocks
from trackside.events.lognotices import LogNotices
from trackside.events.manager import ProcessorManager
from trackside.events.service import WatchScopes
from trackside.iracing.background import BackgroundSync
from trackside.iracing.connections import IRacing
from trackside.judging import claims as judging_claims
from trackside.live.broker import Broker, MemoryBroker, RedisBroker
from trackside.store import migrate
from trackside.store.db import create_engine, sessionmaker
from trackside.store.leases import Leases, LocalLeases
from trackside.store.writer import SqliteWriter
from trackside.telemetry.service import Telemetry

if TYPE_CHECKING:
    from trackside.tracking.live import Tracking


@dataclass(slots=True)
class Platform:
    settings: Settings
    engine: AsyncEngine
    db_factory: async_sessionmaker[AsyncSession]
    keys: KeyRing
    tokens: TokenIssuer
    passwords: Passwords
    mailer: Mailer
    limiter: RateLimiter
    broker: Broker
    leases: Leases  # who does a cluster-wide job (polls a control log, scores an event)
    log_notices: LogNotices | None
    processors: ProcessorManager
    event_locks: EventLocks
    control_logs: ControlLogs
    control_log_poller: ControlLogPoller
    classification: Desk
    iracing: IRacing
    iracing_sync: BackgroundSync
    tracking: Tracking
    telemetry: Telemetry
    # What packages add to an account's access token (the judging app's ``juez_id``).
    claim_sources: tuple[judging_claims.ClaimSource, ...] = ()
    judging_locks: EventLocks = field(default_factory=EventLocks)
    relay_callers: CallerCache = field(default_factory=CallerCache)  # the relay's hot path
    watch_scopes: WatchScopes = field(default_factory=WatchScopes)  # live viewers' crowds

    @classmethod
    async def start(cls, settings: Settings, *, with_keys: bool = True) -> Platform:
        """Migrate the database to head, then load (or make) the signing keys."""
        engine = create_engine(settings)
        try:
            await migrate.upgrade(engine)
            db_factory = sessionmaker(engine)
            keys = KeyRing(db_factory)
            if with_keys:
                await keys.load()
        except BaseException:
            await engine.dispose()
            raise
        broker: Broker = (
            RedisBroker.from_url(settings.redis_url) if settings.redis_url else MemoryBroker()
        )
        node = settings.node_name
        leases = (
            LocalLeases(node, settings.lease_ttl_s)
            if settings.is_sqlite
            else Leases(db_factory, node, settings.lease_ttl_s)
        )
        processors = ProcessorManager(
            db_factory,
            broker,
            idle_timeout_s=settings.processor_idle_timeout_s,
            leases=leases,
        )
        log_notices = (
            None
            if settings.is_sqlite
            else LogNotices(
                settings.resolved_database_url, processors.log_grew, processors.caught_up_all
            )
        )
        if log_notices is not None:
            await log_notices.start()
        # SQLite: the relay's appends commit in one hop to a writer thread of their own.
        event_locks = EventLocks(node, SqliteWriter.for_url(settings.resolved_database_url))
        control_logs = ControlLogs(event_locks, processors)
        iracing = IRacing(settings)
        from trackside.tracking.live import Tracking  # it reaches accounts, which need Platform

        telemetry = Telemetry.open(
            settings.telemetry_url, settings.data_dir, max_points=settings.telemetry_max_points
        )
        try:
            await telemetry.start()
        except BaseException:
            await engine.dispose()
            raise
        return cls(
            settings=settings,
            engine=engine,
            db_factory=db_factory,
            broker=broker,
            leases=leases,
            log_notices=log_notices,
            processors=processors,
            event_locks=event_locks,
            control_logs=control_logs,
            control_log_poller=ControlLogPoller(
                db_factory, control_logs, leases, allow_private=settings.fetch_allow_private
            ),
            classification=Desk(event_locks, processors),
            telemetry=telemetry,
            keys=keys,
            tokens=TokenIssuer(settings, keys),
            passwords=Passwords(settings),
            mailer=Mailer(settings),
            limiter=(
                RedisRateLimiter.from_url(settings.redis_url)
                if settings.redis_url
                else InMemoryRateLimiter()
            ),
            claim_sources=(judging_claims.judge_claims,),
            iracing=iracing,
            iracing_sync=BackgroundSync(db_factory, iracing),
            tracking=Tracking(settings, db_factory, broker, event_locks, processors),
        )

    async def ready(self) -> bool:
        """The database answers and a signing key is loaded."""
        if not self.keys.loaded:
            return False
        try:
            async with self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    async def close(self) -> None:
        try:
            await self.control_log_poller.close()
            await self.iracing_sync.close()
            await self.iracing.close()
            await self.tracking.close()
            await self.processors.close()
            if self.log_notices is not None:
                await self.log_notices.close()
            await self.broker.close()
            await self.limiter.close()
            await self.telemetry.close()
        finally:
            if self.event_locks.writer is not None:
                await self.event_locks.writer.close()
            await self.engine.dispose()
