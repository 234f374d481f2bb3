"""``trackside serve``: the API on uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer


def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to listen on [default: TRACKSIDE_HOST or 127.0.0.1]")
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Port [default: TRACKSIDE_PORT or 8000]", min=0, max=65535)
    ] = None,
) -> None:
    """Run the server: migrates the database, makes signing keys on first start, serves /docs."""
    import logging

    import uvicorn

    from trackside.api.app import create_app
    from trackside.commands.runtime import tune_gc
    from trackside.config import Settings

    settings = Settings()
    if host:  # the address served is an allowed Host by default, as TRACKSIDE_HOST is
        settings = settings.model_copy(update={"host": host})
    level = settings.log_level.upper()
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app(settings)
    tune_gc()
    uvicorn.run(
        app,
        host=host or settings.host,
        port=settings.port if port is None else port,
        log_level=settings.log_level.lower(),
        # No WebSocket-level pings: signalrcore never answers them and would be dropped after
        # 40 s. The SignalR hub keeps its connections alive with its own Ping messages.
        ws_ping_interval=None,
        ws_ping_timeout=None,
        # Live patches compress well across messages (browsers offer permessage-deflate): on
        # the wire a viewer gets a fraction of the JSON's bytes; clients that don't offer it
        # get plain frames.
        ws_per_message_deflate=True,
    )
