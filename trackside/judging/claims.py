"""What judging adds to an account's access token: ``juez_id``, the judge profile the judges'
app opens its socket with (``/ws/juez/{juez_id}/``), as the app's SimpleJWT tokens carry it.

Kept apart from the service so the platform can name it without importing the accounts code
the service uses.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from trackside.judging.models import Judge

ClaimSource = Callable[[AsyncSession, int], Awaitable[dict[str, Any]]]


async def judge_of_user(db: AsyncSession, user_id: int) -> Judge | None:
    """The account's newest active judge profile (an account judges one event at a time)."""
    return await db.scalar(
        select(Judge)
        .where(Judge.user_id == user_id, Judge.active.is_(True))
        .order_by(Judge.id.desc())
        .limit(1)
    )


async def judge_claims(db: AsyncSession, user_id: int) -> dict[str, Any]:
    judge = await judge_of_user(db, user_id)
    return {} if judge is None else {"juez_id": judge.id}
