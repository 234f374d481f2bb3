"""Small helpers every record use case shares: commit or report the clash, one page of rows."""

from __future__ import annotations

import re
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
    except IntegrityError as exc:
        await db.rollback()
        raise Conflict(clash, constraint_field(exc)) from None


_PG_KEY = re.compile(r"Key \(([^)]*)\)")
_SQLITE_COLUMNS = re.compile(r"constraint failed: ([\w., ]+)")


def _camel(name: str) -> str:
    head, *rest = name.strip().split("_")
    return head + "".join(part.title() for part in rest)


def constraint_field(exc: IntegrityError) -> str | None:
    """The API field behind a violated constraint, read from the driver's message.

    Both SQLite (``UNIQUE constraint failed: entries.event_id, entries.number``) and PostgreSQL
    (``Key (event_id, number)=…``) name the columns; the last is the one a request chose (the
    first ones scope it to its parent). None when the message names no column (foreign keys).
    """
    cause = getattr(exc.orig, "__cause__", None)  # asyncpg keeps the DETAIL line apart
    text = f"{exc.orig} {getattr(cause, 'detail', '') or ''}"
    found = _PG_KEY.search(text)
    if found:
        return _camel(found.group(1).split(",")[-1])
    found = _SQLITE_COLUMNS.search(text)
    if found:
        return _camel(found.group(1).split(",")[-1].split(".")[-1])
    return None


def apply(row: Any, changes: Mapping[str, Any]) -> None:
    for name, value in changes.items():
        setattr(row, name, value)


async def page(
    db: AsyncSession, query: Select[tuple[Row]], offset: int, limit: int
) -> tuple[list[Row], int]:
    total = await db.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = (await db.scalars(query.offset(offset).limit(limit))).all()
    return list(rows), int(total or 0)
