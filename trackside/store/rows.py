"""Small helpers every record use case shares: commit or report the clash, one page of rows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from trackside.errors import Conflict

Row = TypeVar("Row")


async def commit(db: AsyncSession, clash: str) -> None:
    """Commit; a unique or foreign-key violation becomes ``Conflict(clash)``, nothing kept."""
    try:
        await db.commit()
    except IntegrityError:
        await db.rollback()
        raise Conflict(clash) from None


def apply(row: Any, changes: Mapping[str, Any]) -> None:
    for name, value in changes.items():
        setattr(row, name, value)


async def page(
    db: AsyncSession, query: Select[tuple[Row]], offset: int, limit: int
) -> tuple[list[Row], int]:
    total = await db.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = (await db.scalars(query.offset(offset).limit(limit))).all()
    return list(rows), int(total or 0)
