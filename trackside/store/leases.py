"""Leases: which server node does a cluster-wide job (score an event, poll its control log).

A lease is a row ``(name, node, epoch, since_ms, expires_ms)`` in the database every node
shares. A node takes a lease that is free or expired (or its own, after a restart under the
same name) and renews it well before it expires; a node that dies simply stops renewing, and
another takes over once ``ttl`` has passed. Each taking gives the lease a new ``epoch``, greater
than any before it and than the time in ms, so a new holder's output never passes for the old
one's. Every change is a conditional UPDATE on the row as read (compare-and-set): two nodes
that race for a lease cannot both win. Times come from the nodes' clocks, which a cluster keeps
in sync (NTP); the TTL is seconds, far above the skew.

On SQLite there is one node by definition: ``LocalLeases`` grants every lease at once without
touching the database.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import BigInteger, String, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from trackside.store.base import Base


class LeaseRow(Base):
    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    node: Mapped[str] = mapped_column(String(200))
    epoch: Mapped[int] = mapped_column(BigInteger)
    since_ms: Mapped[int] = mapped_column(BigInteger)
    expires_ms: Mapped[int] = mapped_column(BigInteger)


@dataclass(frozen=True, slots=True)
class Lease:
    """A lease as last read: who holds it, under which epoch, since and until when (ms)."""

    name: str
    node: str
    epoch: int
    since_ms: int
    expires_ms: int

    def held_by(self, node: str, now_ms: int | None = None) -> bool:
        now_ms = _now_ms() if now_ms is None else now_ms
        return self.node == node and self.expires_ms > now_ms

    @property
    def expired(self) -> bool:
        return self.expires_ms <= _now_ms()


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class Leases:
    """The leases of one node, kept in the shared database."""

    def __init__(
        self, db_factory: async_sessionmaker[AsyncSession], node: str, ttl_s: float
    ) -> None:
        self._db_factory = db_factory
        self.node = node
        self.ttl_ms = int(ttl_s * 1000)

    async def read(self, name: str) -> Lease | None:
        async with self._db_factory() as db:
            row = await db.get(LeaseRow, name)
            return None if row is None else _lease(row)

    async def acquire(self, name: str) -> Lease | None:
        """Take the lease if it is free, expired or this node's; the lease under its new epoch,
        or None when another node holds it."""
        now = _now_ms()
        async with self._db_factory() as db:
            row = await db.get(LeaseRow, name)
            if row is None:
                lease = Lease(name, self.node, now, now, now + self.ttl_ms)
                try:
                    await db.execute(insert(LeaseRow).values(**_values(lease)))
                    await db.commit()
                except IntegrityError:
                    return None  # another node inserted it first
                return lease
            if row.node != self.node and row.expires_ms > now:
                return None
            lease = Lease(name, self.node, max(row.epoch + 1, now), now, now + self.ttl_ms)
            taken = await db.execute(
                update(LeaseRow)
                .where(
                    LeaseRow.name == name,
                    LeaseRow.node == row.node,
                    LeaseRow.epoch == row.epoch,
                    LeaseRow.expires_ms == row.expires_ms,
                )
                .values(**_values(lease))
                .execution_options(synchronize_session=False)
            )
            await db.commit()
            return lease if taken.rowcount == 1 else None  # type: ignore[attr-defined]

    async def renew(self, lease: Lease) -> Lease | None:
        """Extend a lease this node holds; None when it was lost (expired and taken)."""
        now = _now_ms()
        async with self._db_factory() as db:
            renewed = await db.execute(
                update(LeaseRow)
                .where(
                    LeaseRow.name == lease.name,
                    LeaseRow.node == self.node,
                    LeaseRow.epoch == lease.epoch,
                )
                .values(expires_ms=now + self.ttl_ms)
                .execution_options(synchronize_session=False)
            )
            await db.commit()
        if renewed.rowcount != 1:  # type: ignore[attr-defined]
            return None
        return Lease(lease.name, lease.node, lease.epoch, lease.since_ms, now + self.ttl_ms)

    async def release(self, lease: Lease) -> None:
        """Give the lease up now (a clean stop): another node may take it at once."""
        async with self._db_factory() as db:
            await db.execute(
                update(LeaseRow)
                .where(
                    LeaseRow.name == lease.name,
                    LeaseRow.node == self.node,
                    LeaseRow.epoch == lease.epoch,
                )
                .values(expires_ms=0)
                .execution_options(synchronize_session=False)
            )
            await db.commit()

    async def held(self, prefix: str) -> list[Lease]:
        """Every unexpired lease whose name starts with ``prefix``, whoever holds it."""
        now = _now_ms()
        async with self._db_factory() as db:
            rows = (
                await db.scalars(
                    select(LeaseRow).where(
                        LeaseRow.name.startswith(prefix), LeaseRow.expires_ms > now
                    )
                )
            ).all()
        return [_lease(row) for row in rows]


class LocalLeases(Leases):
    """One node, no one to share with (SQLite): every lease is granted at once."""

    def __init__(self, node: str, ttl_s: float) -> None:
        self.node = node
        self.ttl_ms = int(ttl_s * 1000)
        self._epoch = 0
        self._leases: dict[str, Lease] = {}

    async def read(self, name: str) -> Lease | None:
        return self._leases.get(name)

    async def acquire(self, name: str) -> Lease | None:
        now = _now_ms()
        self._epoch = max(self._epoch + 1, now)
        lease = self._leases[name] = Lease(name, self.node, self._epoch, now, 2**62)
        return lease

    async def renew(self, lease: Lease) -> Lease | None:
        return lease if self._leases.get(lease.name) == lease else None

    async def release(self, lease: Lease) -> None:
        if self._leases.get(lease.name) == lease:
            del self._leases[lease.name]

    async def held(self, prefix: str) -> list[Lease]:
        return [lease for name, lease in self._leases.items() if name.startswith(prefix)]


def _lease(row: LeaseRow) -> Lease:
    return Lease(row.name, row.node, row.epoch, row.since_ms, row.expires_ms)


def _values(lease: Lease) -> dict[str, object]:
    return {
        "name": lease.name,
        "node": lease.node,
        "epoch": lease.epoch,
        "since_ms": lease.since_ms,
        "expires_ms": lease.expires_ms,
    }
