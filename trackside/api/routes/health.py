"""Liveness and readiness probes (no token: load balancers and orchestrators call them)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from trackside.accounts.schemas import StatusOut
from trackside.api.deps import PlatformDep

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=StatusOut)
async def healthz() -> StatusOut:
    """The process is up and serving."""
    return StatusOut(status="ok")


@router.get("/readyz", response_model=StatusOut, responses={503: {"model": StatusOut}})
async def readyz(platform: PlatformDep) -> StatusOut | JSONResponse:
    """The database answers and the signing keys are loaded."""
    if await platform.ready():
        return StatusOut(status="ready")
    return JSONResponse({"status": "unavailable", "detail": "database or keys not ready"}, 503)
