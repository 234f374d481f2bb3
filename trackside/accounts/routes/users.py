"""``/users``: account administration for admins (the CLI does the same from a shell)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from trackside.accounts import people as accounts
from trackside.accounts.schemas import LevelIn, MeOut, RoleChangeIn
from trackside.api.deps import AdminPrincipal, DbDep, PagingDep, Writer, paged

router = APIRouter(prefix="/users", tags=["users"])

UserId = Annotated[int, Path(alias="userId", ge=1, le=2**31 - 1)]
GrantId = Annotated[int, Path(alias="grantId", ge=1, le=2**31 - 1)]


@router.get("", response_model=list[MeOut])
async def list_users(
    _: AdminPrincipal, db: DbDep, paging: PagingDep, request: Request, response: Response
) -> list[MeOut]:
    rows = await accounts.list_all(db, offset=paging.offset, limit=paging.limit)
    paged(request, response, paging, await accounts.count(db))
    return [MeOut.of(user) for user in rows]


@router.post("/{userId}/roles", response_model=MeOut)
async def grant_role(
    body: RoleChangeIn, user_id: UserId, _: AdminPrincipal, __: Writer, db: DbDep
) -> MeOut:
    """Give a role (with its organization or event)."""
    user = await accounts.grant_role(
        db, user_id, body.role, organization_id=body.organizationId, event_id=body.eventId
    )
    return MeOut.of(user)


@router.delete("/{userId}/roles/{grantId}", response_model=MeOut)
async def revoke_role(
    user_id: UserId, grant_id: GrantId, _: AdminPrincipal, __: Writer, db: DbDep
) -> MeOut:
    """Take back one grant (its id is in the user's ``grants``)."""
    return MeOut.of(await accounts.revoke_role(db, user_id, grant_id))


@router.put("/{userId}/telemetry-level", response_model=MeOut)
async def set_level(
    body: LevelIn, user_id: UserId, _: AdminPrincipal, __: Writer, db: DbDep
) -> MeOut:
    return MeOut.of(await accounts.change_level(db, user_id, body.telemetryLevel))
