"""The ``/telemetry`` page (no token to load it; its script logs in and sends one)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from trackside.telemetry.page import telemetry_page

router = APIRouter(include_in_schema=False)


@router.get("/telemetry", response_class=HTMLResponse)
async def page() -> HTMLResponse:
    return HTMLResponse(telemetry_page())
