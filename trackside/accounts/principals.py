"""Turn a verified token into the principal it names, with the grants stored right now.

Reading the account on each request makes role changes and revocations take effect at once.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from trackside.accounts.models import MachineClient, RoleGrant, User
from trackside.accounts.roles import Grant, Principal, Role
from trackside.accounts.tokens import TokenSubject
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
