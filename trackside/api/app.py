"""The FastAPI application: routers, error handlers, limits, and the platform's lifespan."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from trackside.accounts.routes import auth, oauth, users
from trackside.api import errors, openapi
from trackside.api.hosts import AllowedHosts
from trackside.api.limits import BodyLimit
from trackside.api.relay_lane import RelayLane
from trackside.api.routes import health
from trackside.config import Settings
from trackside.controllog import routes as control_log
from trackside.events.routes import (
    classification,
    events,
    live,
    log,
    loops,
    organizations,
    pages,
    relay,
    signalr,
    stream,
)
from trackside.events.routes import entries as entry_routes
from trackside.iracing import page as iracing_page
from trackside.iracing import routes as iracing
from trackside.judging import pages as judge_page
from trackside.judging import routes as judging
from trackside.platform import Platform
from trackside.telemetry.page import STATIC_DIR as TELEMETRY_STATIC
from trackside.telemetry.routes import influxql as telemetry_influxql
from trackside.telemetry.routes import laps as telemetry_laps
from trackside.telemetry.routes import page as telemetry_page
from trackside.telemetry.routes import query as telemetry_query
from trackside.telemetry.routes import tokens as telemetry_tokens
from trackside.telemetry.routes import write as telemetry_write
from trackside.tracking.routes import auth as tracking_auth
from trackside.tracking.routes import map as tracking_map
from trackside.tracking.routes import reports as location_reports
from trackside.tracking.routes import socket as location_socket
from trackside.tracking.routes import trackers, tracking
from trackside.web.pages import STATIC_DIR

DESCRIPTION = """Race timing, scoring and live race data.

Authenticate with `POST /auth/login` (people) or the OAuth2 client-credentials token endpoint
(machines), then send `Authorization: Bearer <token>`. Times are ISO 8601 with a zone.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        platform = await Platform.start(settings)
        app.state.platform = platform
        try:
            await platform.processors.reconcile()  # live flags a server that died left behind
            await platform.control_log_poller.start()
            await platform.iracing_sync.start()
            yield
        finally:
            await platform.close()

    app = FastAPI(
        title="trackside",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        # No OpenTelemetry is set up: without this FastAPI asks the global providers on every
        # request whether it is.
        telemetry={"tracing": False, "metrics": False},
    )
    errors.install(app)
    openapi.install(app)
    app.add_middleware(
        BodyLimit, max_bytes=settings.max_body_bytes, exempt=telemetry_write.OWN_BODY_LIMIT
    )
    # Routes are matched in this order: the relay's batches, the hottest path, first.
    for module in (
        relay,
        health,
        auth,
        oauth,
        organizations,
        events,
        entry_routes,
        users,
        live,
        log,
        loops,
        control_log,
        classification,
        stream,
        signalr,
        pages,
        judging,
        judge_page,
        iracing,
        iracing_page,
        tracking_auth,
        location_reports,
        location_socket,
        trackers,
        tracking,
        tracking_map,
        telemetry_tokens,
        telemetry_query,
        telemetry_influxql,
        telemetry_laps,
        telemetry_page,
    ):
        app.include_router(module.router)
    app.include_router(telemetry_write.router)
    app.include_router(telemetry_write.influx_router)
    app.mount("/static/telemetry", StaticFiles(directory=TELEMETRY_STATIC), name="telemetry-static")
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(pages.PageNegotiation)
    app.add_middleware(RelayLane, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(AllowedHosts, allowed_hosts=settings.trusted_hosts)  # outermost
    return app


def create_worker_app() -> FastAPI:
    """The app of one ``trackside serve --workers N`` process (uvicorn's factory, called in
    each spawned worker): settings from the environment ``serve`` set, and a node name of its
    own, ``<node name>/<pid>``, since every worker is a cluster node holding leases of its own
    (a restarted worker is a new node, never mistaken for the one that died)."""
    from trackside.commands.runtime import start_logging, tune_gc

    settings = Settings()
    settings = settings.model_copy(update={"node_id": f"{settings.node_name}/{os.getpid()}"})
    start_logging(settings.log_level)
    app = create_app(settings)
    tune_gc()
    return app
