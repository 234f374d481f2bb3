"""What the commands share: one platform per command run, and service errors as exit 1."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

import typer
from rich.console import Console

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from trackside.platform import Platform

T = TypeVar("T")
console = Console()
errors = Console(stderr=True)


def run(work: Callable[[Platform, AsyncSession], Awaitable[T]]) -> T:
    """Start the platform (migrating the database), run ``work`` in one session, stop."""
    import asyncio  # here, not at import: ``trackside replay`` starts faster without it

    from trackside.config import Settings
    from trackside.errors import ServiceError
    from trackside.platform import Platform

    async def main() -> T:
        platform = await Platform.start(Settings(), with_keys=False)
        try:
            async with platform.db_factory() as db:
                return await work(platform, db)
        finally:
            await platform.close()

    try:
        return asyncio.run(main())
    except ServiceError as exc:
        errors.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(1) from None


def role_option_help() -> str:
    return "admin, organizer, official, judge, team or viewer"
