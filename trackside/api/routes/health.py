"""Liveness and readiness probes (no token: load balancers and orchestrators call them)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from trackside.accounts.schemas import StatusOut
from trackside.api.deps import PlatformDep, SettingsDep

router = APIRouter(tags=["health"])


class HealthOut(BaseModel):
    status: str
    node: str = Field(
        description="The answering server node's name (TRACKSIDE_NODE_ID, default host:port; "
        "a worker of `trackside serve --workers N` adds /pid): which node a load balancer "
        "picked."
    )


@router.get("/healthz", response_model=HealthOut)
async def healthz(settings: SettingsDep) -> HealthOut:
    """The process is up and serving."""
    return HealthOut(status="ok", node=settings.node_name)


@router.get("/readyz", response_model=StatusOut, responses={503: {"model": StatusOut}})
async def readyz(platform: PlatformDep) -> StatusOut | JSONResponse:
    """The database answers and the signing keys are loaded."""
    if await platform.ready():
        return StatusOut(status="ready")
    return JSONResponse({"status": "unavailable", "detail": "database or keys not ready"}, 503)
