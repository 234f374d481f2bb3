"""``/organization``: the groups that run events (Status API), plus their administration."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from trackside.api.deps import (
    AnyOrganization,
    CurrentPrincipal,
    DbDep,
    ManagedOrganization,
    OrganizationCreator,
    OrganizationDeleter,
    PagingDep,
    Writer,
    paged,
)
from trackside.events import service as events
from trackside.events.schemas import OrganizationIn, OrganizationOut, OrganizationPatch

router = APIRouter(prefix="/organization", tags=["organizations"])


@router.get("", response_model=list[OrganizationOut])
async def list_organizations(
    _: CurrentPrincipal,
    db: DbDep,
    paging: PagingDep,
    request: Request,
    response: Response,
) -> list[OrganizationOut]:
    """Every organization, by id (paged: ``offset``, ``limit``; total in ``X-Total-Count``)."""
    rows, total = await events.list_organizations(db, paging.offset, paging.limit)
    paged(request, response, paging, total)
    return [OrganizationOut.model_validate(row) for row in rows]


@router.get("/{organizationId}", response_model=OrganizationOut)
async def get_organization(_: CurrentPrincipal, organization: AnyOrganization) -> OrganizationOut:
    return OrganizationOut.model_validate(organization)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=OrganizationOut)
async def create_organization(
    body: OrganizationIn, _: OrganizationCreator, __: Writer, db: DbDep
) -> OrganizationOut:
    """Admins only."""
    org = await events.create_organization(db, body.model_dump())
    return OrganizationOut.model_validate(org)


@router.patch("/{organizationId}", response_model=OrganizationOut)
async def update_organization(
    body: OrganizationPatch, organization: ManagedOrganization, _: Writer, db: DbDep
) -> OrganizationOut:
    """Admins and the organization's organizers."""
    org = await events.update_organization(db, organization, body.changes())
    return OrganizationOut.model_validate(org)


@router.delete("/{organizationId}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_organization(
    organization: AnyOrganization, _: OrganizationDeleter, __: Writer, db: DbDep
) -> None:
    """Admins only; an organization with events cannot be deleted (409)."""
    await events.delete_organization(db, organization)
