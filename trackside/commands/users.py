"""``trackside users``: accounts, their roles and telemetry levels."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import orjson
import typer
from rich.table import Table

from trackside.commands.common import console, role_option_help, run

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from trackside.platform import Platform

app = typer.Typer(help="People: accounts and their roles.", no_args_is_help=True)

Organization = Annotated[
    int | None, typer.Option("--organization", help="Organization id (for organizer).")
]
EventOpt = Annotated[int | None, typer.Option("--event", help="Event id (official, judge, team).")]


def _role(value: str | None):  # type: ignore[no-untyped-def]
    from trackside.accounts.roles import Role

    if value is None:
        return None
    try:
        return Role(value.lower())
    except ValueError:
        raise typer.BadParameter(f"unknown role {value!r}; use {role_option_help()}") from None


@app.command()
def create(
    username: str,
    email: Annotated[str, typer.Option(help="E-mail address (taken as verified).")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
    role: Annotated[str | None, typer.Option(help=role_option_help())] = None,
    organization: Organization = None,
    event: EventOpt = None,
    level: Annotated[int, typer.Option(help="Telemetry level 1-5.", min=1, max=5)] = 1,
) -> None:
    """Create an account (verified: whoever runs this vouches for the address)."""
    from trackside.accounts import people as accounts

    granted = _role(role)

    async def work(platform: Platform, db: AsyncSession) -> int:
        user = await accounts.create(
            platform,
            db,
            username=username,
            email=email,
            password=password,
            verified=True,
            telemetry_level=level,
        )
        if granted is not None:
            await accounts.grant(db, user, granted, organization_id=organization, event_id=event)
        await db.commit()
        return user.id

    user_id = run(work)
    console.print(f"user {username} created (id {user_id})")


@app.command("list")
def list_users(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Every account with its roles."""
    from trackside.accounts import people as accounts

    async def work(_platform: Platform, db: AsyncSession) -> list[dict]:
        return [
            {
                "id": u.id,
                "username": u.username,
                "email": u.email,
                "verified": u.email_verified_at is not None,
                "telemetry_level": u.telemetry_level,
                "roles": [_grant_text(g.role, g.organization_id, g.event_id) for g in u.grants],
            }
            for u in await accounts.list_all(db)
        ]

    rows = run(work)
    if as_json:
        typer.echo(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode())
        return
    table = Table("id", "username", "email", "verified", "level", "roles")
    for row in rows:
        table.add_row(
            str(row["id"]),
            row["username"],
            row["email"],
            "yes" if row["verified"] else "no",
            str(row["telemetry_level"]),
            ", ".join(row["roles"]) or "viewer",
        )
    console.print(table)


def _grant_text(role: str, organization_id: int | None, event_id: int | None) -> str:
    if organization_id is not None:
        return f"{role}@organization:{organization_id}"
    if event_id is not None:
        return f"{role}@event:{event_id}"
    return role


@app.command("set-role")
def set_role(
    username: str,
    role: Annotated[str, typer.Argument(help=role_option_help())],
    organization: Organization = None,
    event: EventOpt = None,
    remove: Annotated[bool, typer.Option("--remove", help="Take the role away.")] = False,
) -> None:
    """Give a user a role (organizer needs --organization; official may take --event)."""
    from trackside.accounts import people as accounts
    from trackside.errors import NotFound

    granted = _role(role)
    assert granted is not None

    async def work(_platform: Platform, db: AsyncSession) -> None:
        user = await accounts.by_username(db, username)
        if remove:
            if not await accounts.revoke(
                db, user, granted, organization_id=organization, event_id=event
            ):
                raise NotFound(f"{username} does not hold {_grant_text(role, organization, event)}")
        else:
            await accounts.grant(db, user, granted, organization_id=organization, event_id=event)
        await db.commit()

    run(work)
    verb = "no longer holds" if remove else "now holds"
    console.print(f"{username} {verb} {_grant_text(granted.value, organization, event)}")


@app.command("set-level")
def set_level(
    username: str,
    level: Annotated[int, typer.Argument(help="Telemetry level 1-5 (5 may write).", min=1, max=5)],
) -> None:
    """Set a user's telemetry level."""
    from trackside.accounts import people as accounts

    async def work(_platform: Platform, db: AsyncSession) -> None:
        user = await accounts.by_username(db, username)
        await accounts.set_level(db, user, level)
        await db.commit()

    run(work)
    console.print(f"{username} is at telemetry level {level}")
