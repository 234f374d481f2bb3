"""Direct frame writes (``api.sockets``): what the live fan-out writes past ASGI arrives as the
text messages it was, with and without permessage-deflate, at every frame-length encoding."""

from __future__ import annotations

import asyncio
import json
import random

import pytest
import websockets
from fastapi import FastAPI, WebSocket

from tests.events.livefeed import serving
from trackside.events.fanout import FRAMES_EXTENSION, Outgoing, Viewer
from trackside.live.wsframes import DeflateGroups

# 125, 126 and 65,536 bytes are where a frame's length takes 7, 16 and 64 bits.
SIZES = [0, 1, 125, 126, 127, 65_535, 65_536, 200_000]


def texts() -> list[str]:
    return [("é" if size % 2 else "x") * (size // 2 if size % 2 else size) for size in SIZES]


def frames_app(results: dict[str, object]) -> FastAPI:
    app = FastAPI()

    @app.websocket("/frames")
    async def frames(websocket: WebSocket) -> None:
        await websocket.accept()
        writer = websocket.scope["extensions"].get(FRAMES_EXTENSION)
        results["writer"] = writer
        sent = [writer.send(Outgoing(text)) for text in texts()] if writer else []
        results["sent"] = sent
        await websocket.send_text("through ASGI")  # the ASGI path still works beside it
        await websocket.receive_text()  # the client says it is done
        await websocket.close()
        await asyncio.sleep(0.05)
        results["after_close"] = writer.send(Outgoing("late")) if writer else None

    return app


@pytest.mark.parametrize("compression", ["deflate", None])
async def test_direct_frames_arrive_as_sent(compression: str | None) -> None:
    results: dict[str, object] = {}
    async with (
        serving(frames_app(results)) as host,
        websockets.connect(f"ws://{host}/frames", compression=compression) as ws,
    ):
        negotiated = ws.response.headers.get("Sec-WebSocket-Extensions") if ws.response else None
        assert ("permessage-deflate" in (negotiated or "")) == (compression is not None)
        received = [await asyncio.wait_for(ws.recv(), 10) for _ in SIZES]
        assert await asyncio.wait_for(ws.recv(), 10) == "through ASGI"
        await ws.send("done")
        with pytest.raises(websockets.ConnectionClosedOK):
            await asyncio.wait_for(ws.recv(), 10)
    assert results["writer"] is not None  # the server offered direct writes
    assert results["sent"] == [True] * len(SIZES)  # ... and they were taken, not deferred
    assert received == texts()  # text frames (str), each exactly as sent
    assert results["after_close"] is False  # a closed socket is left to ASGI, which refuses


def test_plain_frame_is_the_same_bytes_a_websocket_library_makes() -> None:
    from websockets.frames import Frame, Opcode

    for text in texts():
        payload = text.encode()
        made = Frame(Opcode.TEXT, payload).serialize(mask=False, extensions=[])
        assert Outgoing(text).frame == made


def group_app(writers: list[tuple[WebSocket, object]], done: asyncio.Event) -> FastAPI:
    app = FastAPI()

    @app.websocket("/group")
    async def group(websocket: WebSocket) -> None:
        await websocket.accept()
        writers.append((websocket, websocket.scope["extensions"][FRAMES_EXTENSION]))
        await done.wait()
        await websocket.close()

    return app


async def test_a_shared_compression_reaches_every_client_intact() -> None:
    """Broadcasts compressed once for a group of browsers-alike clients, with one client's own
    message, a send through ASGI and a regrouping in between: every client reads every text."""
    writers: list[tuple[WebSocket, object]] = []
    done = asyncio.Event()
    clock = [0.0]
    groups = DeflateGroups(regroup_s=1.0, clock=lambda: clock[0])
    lines = [f'{{"type":"patch","n":{n},"cars":["{"x" * (n % 7)}"]}}' for n in range(40)]
    async with serving(group_app(writers, done)) as host:
        clients = [await websockets.connect(f"ws://{host}/group") for _ in range(6)]
        while len(writers) < len(clients):
            await asyncio.sleep(0.01)
        expected: list[list[str]] = [[] for _ in clients]
        for n, text in enumerate(lines):
            clock[0] += 0.3
            if n == 10:  # one client's own message
                assert writers[2][1].send(Outgoing("own"))
                expected[2].append("own")
            if n == 20:  # one client's message through ASGI
                await writers[4][0].send_text("asgi")
                expected[4].append("asgi")
            outgoing = Outgoing(text, None, groups.next_round())
            for index, (_, writer) in enumerate(writers):
                assert writer.send(outgoing)
                expected[index].append(text)
        received = [
            [await asyncio.wait_for(client.recv(), 10) for _ in wanted]
            for client, wanted in zip(clients, expected, strict=True)
        ]
        done.set()
        for client in clients:
            await client.close()
    for got, wanted in zip(received, expected, strict=True):
        assert got == wanted
    assert all(
        "permessage-deflate" in client.response.headers["Sec-WebSocket-Extensions"]
        for client in clients
    )


async def test_a_full_socket_falls_back_to_asgi_and_comes_back_intact() -> None:
    """A viewer that stops reading: its buffer fills, direct writes are refused and its texts
    queue for ASGI (the library's compressor: a standby while the socket was in a group);
    once it reads again, direct writes and the shared compression resume. Both viewers, the
    slow and the quick one, read every text in order."""
    writers: list[tuple[WebSocket, object]] = []
    done = asyncio.Event()
    groups = DeflateGroups(regroup_s=0.0)
    rng = random.Random(7)
    texts = [json.dumps({"n": n, "pad": f"{rng.getrandbits(4 * 8_000):x}"}) for n in range(1_200)]
    async with serving(group_app(writers, done)) as host:
        slow = await websockets.connect(f"ws://{host}/group", max_size=None, max_queue=None)
        quick = await websockets.connect(f"ws://{host}/group", max_size=None)
        while len(writers) < 2:
            await asyncio.sleep(0.01)
        viewers = [Viewer(websocket) for websocket, _ in writers]
        slow.transport.pause_reading()  # reads nothing for now
        got: dict[str, list[str]] = {"quick": []}

        async def read_quick() -> None:
            while len(got["quick"]) < len(texts):
                got["quick"].append(await quick.recv())

        reader = asyncio.create_task(read_quick())
        queued = 0
        for n, text in enumerate(texts):
            if n == 1_000:  # the slow viewer reads again: its socket drains
                slow.transport.resume_reading()
            outgoing = Outgoing(text, None, groups.next_round())
            for viewer in viewers:
                viewer.push(outgoing)
            queued = max(queued, viewers[0].behind)
            await asyncio.sleep(0)
        got["slow"] = [await asyncio.wait_for(slow.recv(), 30) for _ in texts]
        await asyncio.wait_for(reader, 30)
        done.set()
        for client in (slow, quick):
            await client.close()
    assert queued > 0  # the slow socket was full at some point: texts went through ASGI
    assert got["slow"] == texts
    assert got["quick"] == texts
