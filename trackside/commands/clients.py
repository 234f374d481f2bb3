"""``trackside clients``: machine clients (relays, partner systems) for client credentials."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import orjson
import typer
from rich.table import Table

from trackside.commands.common import console, role_option_help, run
from trackside.commands.users import EventOpt, Organization, _role

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from trackside.platform import Platform

app = typer.Typer(help="Machine clients and their secrets.", no_args_is_help=True)


@app.command()
def create(
    name: str,
    role: Annotated[str, typer.Option(help=role_option_help())] = "viewer",
    event: EventOpt = None,
    organization: Organization = None,
    as_json: Annotated[
        bool, typer.Option("--json", help='Print {"client_id": …, "client_secret": …}.')
    ] = False,
) -> None:
    """Create a client and print its id and secret (the secret is shown this once)."""
    from trackside.accounts import clients

    granted = _role(role)
    assert granted is not None

    async def work(_platform: Platform, db: AsyncSession) -> tuple[str, str]:
        made = await clients.create(
            db, name=name, role=granted, organization_id=organization, event_id=event
        )
        return made.client.client_id, made.secret

    client_id, secret = run(work)
    if as_json:
        typer.echo(orjson.dumps({"client_id": client_id, "client_secret": secret}).decode())
        return
    console.print(f"client_id:     {client_id}")
    console.print(f"client_secret: {secret}")
    console.print("[dim]Keep the secret now: only its digest is stored.[/dim]")


@app.command("list")
def list_clients(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Every client (never its secret)."""
    from trackside.accounts import clients

    async def work(_platform: Platform, db: AsyncSession) -> list[dict]:
        return [
            {
                "client_id": c.client_id,
                "name": c.name,
                "role": c.role,
                "organization_id": c.organization_id,
                "event_id": c.event_id,
                "created": c.created_at.isoformat(),
                "revoked": c.revoked_at.isoformat() if c.revoked_at else None,
            }
            for c in await clients.list_all(db)
        ]

    rows = run(work)
    if as_json:
        typer.echo(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode())
        return
    table = Table("client_id", "name", "role", "scope", "created", "revoked")
    for row in rows:
        scope = (
            f"event {row['event_id']}"
            if row["event_id"]
            else f"organization {row['organization_id']}"
            if row["organization_id"]
            else "all"
        )
        table.add_row(
            row["client_id"], row["name"], row["role"], scope, row["created"], row["revoked"] or ""
        )
    console.print(table)


@app.command()
def revoke(client_id: str) -> None:
    """Revoke a client: its tokens stop working at once."""
    from trackside.accounts import clients

    async def work(_platform: Platform, db: AsyncSession) -> None:
        await clients.revoke(db, client_id)

    run(work)
    console.print(f"client {client_id} revoked")
