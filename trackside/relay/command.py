"""``trackside relay``: the options a person types at the track, checked before anything runs."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.logging import RichHandler

DEFAULT_QUEUE = Path("trackside-relay/queue.sqlite")


def _setup_logging(console: Console) -> None:
    """Rich on a terminal; plain one-line records elsewhere (a service's journal, a file)."""
    handler: logging.Handler
    if console.is_terminal:
        handler = RichHandler(console=console, show_path=False)
        handler.setFormatter(logging.Formatter("%(message)s"))
    else:
        handler = logging.StreamHandler(console.file)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise


def relay(
    server: Annotated[
        str, typer.Option(help="The trackside server's base URL, e.g. https://timing.example.org")
    ],
    event: Annotated[str, typer.Option(help="The event's id on the server.")],
    client_id: Annotated[
        str, typer.Option(envvar="TRACKSIDE_RELAY_CLIENT_ID", help="This relay's client id.")
    ],
    client_secret: Annotated[
        str,
        typer.Option(
            envvar="TRACKSIDE_RELAY_CLIENT_SECRET",
            show_default=False,
            help="This relay's client secret; better from the environment variable, since a "
            "command line is visible to other users of the machine.",
        ),
    ],
    rmonitor: Annotated[
        list[str] | None,
        typer.Option(metavar="tcp://HOST:PORT", help="The timing software's RMonitor feed."),
    ] = None,
    rmonitor_file: Annotated[
        list[Path] | None,
        typer.Option(metavar="PATH", help="A growing file of RMonitor lines, followed."),
    ] = None,
    p3: Annotated[
        list[str] | None,
        typer.Option(metavar="tcp://HOST:PORT", help="A MYLAPS/AMB P3 decoder (port 5403)."),
    ] = None,
    queue: Annotated[
        Path, typer.Option(help="The on-disk queue; keep it across restarts.")
    ] = DEFAULT_QUEUE,
    retry_max: Annotated[
        float,
        typer.Option(min=0.1, help="Longest wait between retries, seconds (refusals: twice)."),
    ] = 30.0,
) -> None:
    """Relay the timing feeds at the track to a trackside server, surviving any outage.

    Every record is stored in the queue on disk before it is uploaded.

    After an outage or a restart the relay sends what the server has not acknowledged.

    Each source option can be given more than once.
    """
    # Imported here: every other trackside command starts faster without the relay's stack.
    from trackside.relay.app import run_relay
    from trackside.relay.config import (
        ConfigError,
        RelayConfig,
        name_sources,
        parse_event,
        parse_server,
    )
    from trackside.relay.queue import QueueError

    if not client_id.strip() or not client_secret:
        raise typer.BadParameter("--client-id and --client-secret must not be empty")
    try:
        config = RelayConfig(
            server=parse_server(server),
            event_id=parse_event(event),
            client_id=client_id,
            client_secret=client_secret,
            sources=name_sources(rmonitor or [], rmonitor_file or [], p3 or []),
            queue_path=queue,
            retry_max=retry_max,
        )
    except ConfigError as exc:
        raise typer.BadParameter(str(exc)) from None
    console = Console()
    _setup_logging(console)
    try:
        run_relay(config, console)
    except QueueError as exc:
        console.print(f"[bold red]error:[/] {exc}", soft_wrap=True)
        raise typer.Exit(1) from None
