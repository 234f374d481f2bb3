"""Probes and docs answer without a token."""

from __future__ import annotations

import httpx

from trackside.config import Settings


async def test_probes_and_docs(client: httpx.AsyncClient, settings: Settings) -> None:
    health = (await client.get("/healthz")).json()
    assert health == {"status": "ok", "node": settings.node_name}
    assert (await client.get("/readyz")).json()["status"] == "ready"
    docs = await client.get("/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()
    spec = (await client.get("/openapi.json")).json()
    assert {"/events", "/events/{eventId}", "/events/{eventId}/sessions", "/organization"} <= set(
        spec["paths"]
    )
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


async def test_unknown_paths_are_json_404s(client: httpx.AsyncClient) -> None:
    response = await client.get("/no/such/thing")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}
    wrong_method = await client.put("/healthz")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["detail"]
