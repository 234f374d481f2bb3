"""Feeding real captures through the relay API, and a real server for WebSocket tests."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from trackside.api.sockets import websocket_options
from trackside.commands.demo_race import capture_feed


def capture_lines(*paths: Path) -> list[tuple[int, str]]:
    """The RMonitor lines of captures (the demo's reader), each with a distinct receive time."""
    return [
        (1_745_000_000_000 + index, item.line)
        for index, item in enumerate(capture_feed(paths), start=1)
    ]


async def post_lines(
    client: httpx.AsyncClient,
    token: str,
    event_id: int,
    lines: list[tuple[int, str]],
    batch: int = 200,
    source: str = "rmonitor",
    first_seq: int = 1,
) -> dict:
    reply: dict = {}
    for start in range(0, len(lines), batch):
        chunk = lines[start : start + batch]
        body = {
            "source": source,
            "records": [
                {"seq": first_seq + start + i, "received_at": at, "type": "rmonitor", "data": line}
                for i, (at, line) in enumerate(chunk)
            ],
        }
        response = await client.post(
            f"/relay/events/{event_id}/records",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 200, response.text
        reply = response.json()
    return reply


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@asynccontextmanager
async def serving(app: FastAPI, port: int | None = None, **options: Any) -> AsyncIterator[str]:
    """The (already started) app on a real loopback port, for WebSocket clients. A port given
    again serves the app again where its clients were; ``options`` go to uvicorn."""
    port = port or free_port()
    options = {**websocket_options(), **options}  # as `trackside serve` runs it
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, lifespan="off", log_level="warning", **options
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
