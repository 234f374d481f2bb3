"""Machine clients: created by an operator, authenticated by id and secret, revocable."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from trackside.accounts import opaque
from trackside.accounts.models import MachineClient
from trackside.accounts.people import check_scope_targets
from trackside.accounts.roles import Role
from trackside.errors import NotFound, Unauthenticated
from trackside.store.base import utcnow


@dataclass(frozen=True, slots=True)
class NewClient:
    client: MachineClient
    secret: str  # shown once; only its digest is stored


def _client_id(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40] or "client"
    return f"{slug}-{secrets.token_hex(4)}"


async def create(
    db: AsyncSession,
    *,
    name: str,
    role: Role = Role.VIEWER,
    organization_id: int | None = None,
    event_id: int | None = None,
) -> NewClient:
    await check_scope_targets(db, role, organization_id, event_id)
    secret = opaque.new_token()
    client = MachineClient(
        client_id=_client_id(name),
        name=name,
        secret_hash=opaque.digest(secret),
        role=role.value,
        organization_id=organization_id,
        event_id=event_id,
    )
    db.add(client)
    await db.commit()
    return NewClient(client, secret)


async def list_all(db: AsyncSession) -> list[MachineClient]:
    return list((await db.scalars(select(MachineClient).order_by(MachineClient.id))).all())


async def revoke(db: AsyncSession, client_id: str) -> MachineClient:
    client = await db.scalar(select(MachineClient).where(MachineClient.client_id == client_id))
    if client is None:
        raise NotFound(f"no client {client_id!r}")
    if client.revoked_at is None:
        client.revoked_at = utcnow()
        await db.commit()
    return client


async def authenticate(db: AsyncSession, client_id: str, secret: str) -> MachineClient:
    client = await db.scalar(select(MachineClient).where(MachineClient.client_id == client_id))
    # Compare against a digest even for an unknown id, so both cost the same.
    ok = opaque.matches(secret, client.secret_hash if client else opaque.digest(""))
    if client is None or not ok or client.revoked_at is not None:
        raise Unauthenticated("Invalid client or Invalid client credentials")
    return client
