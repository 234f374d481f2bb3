"""``trackside serve``: the API on uvicorn, in one process or as N worker processes."""

from __future__ import annotations

import asyncio
import os
from typing import Annotated, Any

import typer

from trackside.config import Settings

WORKER_APP = "trackside.api.app:create_worker_app"


def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to listen on [default: TRACKSIDE_HOST or 127.0.0.1]")
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Port [default: TRACKSIDE_PORT or 8000]", min=0, max=65535)
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            help="Worker processes sharing the port, each a cluster node named <node>/<pid>; "
            "more than 1 needs PostgreSQL and TRACKSIDE_REDIS_URL (deploy/README.md).",
            min=1,
        ),
    ] = 1,
) -> None:
    """Run the server: migrates the database, makes signing keys on first start, serves /docs."""
    import uvicorn

    from trackside.api.sockets import websocket_options
    from trackside.commands.runtime import start_logging, tune_gc

    settings = Settings()
    if host:  # the address served is an allowed Host by default, as TRACKSIDE_HOST is
        settings = settings.model_copy(update={"host": host})
    if port is not None:
        settings = settings.model_copy(update={"port": port})
    start_logging(settings.log_level)
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level.lower(),
        **websocket_options(),
    }
    if workers == 1:
        from trackside.api.app import create_app

        app = create_app(settings)
        tune_gc()
        uvicorn.run(app, **options)
        return
    refuse_workers(settings)
    asyncio.run(prepare(settings))
    # Spawned workers read their settings from the environment, as this process did.
    os.environ["TRACKSIDE_HOST"] = settings.host
    os.environ["TRACKSIDE_PORT"] = str(settings.port)
    uvicorn.run(WORKER_APP, factory=True, workers=workers, **options)


def refuse_workers(settings: Settings) -> None:
    """Several workers are several nodes: they need what a cluster needs."""
    if settings.is_sqlite:
        raise typer.BadParameter(
            "several workers need PostgreSQL (TRACKSIDE_DATABASE_URL=postgresql+asyncpg://…): "
            "SQLite takes one writer process at a time",
            param_hint="--workers",
        )
    if not settings.redis_url:
        raise typer.BadParameter(
            "several workers need TRACKSIDE_REDIS_URL: live updates, rate limits and "
            "revocations must reach every worker process, not just the one that made them",
            param_hint="--workers",
        )
    if not settings.telemetry_url:
        import logging

        logging.getLogger("trackside.serve").warning(
            "telemetry on DuckDB (%s/telemetry.duckdb) is opened by one worker only; "
            "set TRACKSIDE_TELEMETRY_URL=influxdb://… so every worker can write telemetry",
            settings.data_dir,
        )


async def prepare(settings: Settings) -> None:
    """Migrate and make the first signing key once, before the workers start together (each
    would otherwise race the others to create the same tables)."""
    from trackside.platform import Platform

    platform = await Platform.start(settings)
    await platform.close()
