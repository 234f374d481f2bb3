"""The ``trackside`` command: replay, serve, relay, demo, db, users, clients.

``main`` runs a plain ``trackside replay`` command line straight away
(``commands.replay_run.fast_args``): the Typer app, and Typer's pydantic and Rich, are only
built for every other command, ``--help`` and command lines Typer must answer. ``app`` is built
on first use.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import typer


def build_app() -> typer.Typer:
    import typer

    from trackside.commands import clients, db, demo, replay, results, serve, tracking, users
    from trackside.relay.command import relay as relay_command

    # No local variables in tracebacks: the relay's client secret is one.
    app = typer.Typer(
        help="Race timing, scoring and live race data.",
        no_args_is_help=True,
        pretty_exceptions_show_locals=False,
    )
    app.command()(serve.serve)
    app.command()(demo.demo)
    app.command()(replay.replay)
    app.command()(results.results)
    app.add_typer(db.app, name="db")
    app.add_typer(users.app, name="users")
    app.add_typer(clients.app, name="clients")
    app.add_typer(tracking.app, name="tracking")

    @app.callback()
    def root() -> None:
        """trackside: scores races live from the timing feed and shows them on every screen."""

    app.command("relay")(relay_command)
    return app


_app: typer.Typer | None = None


def __getattr__(name: str) -> Any:
    global _app
    if name == "app":
        if _app is None:
            _app = build_app()
        return _app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    argv = sys.argv[1:]
    if argv[:1] == ["replay"] and _replay(argv[1:]):
        return
    __getattr__("app")()


def _replay(argv: list[str]) -> bool:
    """Run ``trackside replay`` without Typer; False when Typer must answer instead."""
    from trackside.commands import replay_run

    args = replay_run.fast_args(argv)
    if args is None:
        return False
    try:
        replay_run.run(**args)
    except replay_run.BadLoops:
        return False  # nothing printed yet: Typer names the option in its error
    return True


if __name__ == "__main__":
    main()
