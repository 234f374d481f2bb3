"""API tokens for loggers and collectors (``Authorization: Token …``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from trackside.api.deps import DbDep
from trackside.telemetry import tokens
from trackside.telemetry.access import ERRORS, Writer, user_only
from trackside.telemetry.schemas import TokenCreatedOut, TokenIn, TokenOut

router = APIRouter(prefix="/api/telemetry/tokens", tags=["telemetry"])

TOKEN_ERRORS = {k: v for k, v in ERRORS.items() if k != 503}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=TokenCreatedOut,
    responses={422: {"description": "name is missing or too long"}, **TOKEN_ERRORS},
)
async def create_token(body: TokenIn, principal: Writer, db: DbDep) -> TokenCreatedOut:
    """A new API token acting as this (level-5) account; the token is shown only here."""
    row, token = await tokens.create(db, user_only(principal).id, body.name)
    return TokenCreatedOut(id=row.id, name=row.name, token=token, created_at=row.created_at)


@router.get("", response_model=list[TokenOut], responses=TOKEN_ERRORS)
async def list_tokens(principal: Writer, db: DbDep) -> list[TokenOut]:
    """This account's live API tokens (names and dates; never the tokens)."""
    rows = await tokens.list_for(db, user_only(principal).id)
    return [TokenOut.model_validate(row) for row in rows]


@router.delete(
    "/{tokenId}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses={404: {"description": "No such token of this account"}, **TOKEN_ERRORS},
)
async def revoke_token(
    principal: Writer,
    db: DbDep,
    token_id: Annotated[int, Path(alias="tokenId", ge=1, le=2**31 - 1)],
) -> Response:
    """Revoke one of this account's API tokens; it is refused from now on."""
    await tokens.revoke(db, user_only(principal).id, token_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
