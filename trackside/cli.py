"""The ``trackside`` command: replay, serve, relay, demo, db, users, clients."""

from __future__ import annotations

import typer
from rich.console import Console

from trackside.commands import clients, db, demo, replay, results, serve, users
from trackside.relay.command import relay as relay_command

# No local variables in tracebacks: the relay's client secret is one.
app = typer.Typer(
    help="Race timing, scoring and live race data.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
console = Console()
app.command()(serve.serve)
app.command()(demo.demo)
app.command()(replay.replay)
app.command()(results.results)
app.add_typer(db.app, name="db")
app.add_typer(users.app, name="users")
app.add_typer(clients.app, name="clients")


@app.callback()
def root() -> None:
    """trackside: scores races live from the timing feed and shows them on every screen."""


app.command("relay")(relay_command)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
