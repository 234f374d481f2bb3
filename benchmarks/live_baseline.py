"""The baseline for ``benchmarks/live.py``: a minimal broadcast server on the websockets library.

It does the least a live server must: keep the open connections, send the current snapshot to
each new one, and ``broadcast`` every update's bytes to all of them. Updates come from the
benchmark's driver over a TCP side channel, one frame per update (``kind`` byte, 4-byte
big-endian length, payload): ``S`` sets the snapshot sent on connect, ``U`` broadcasts the
payload, and each frame is acknowledged with one byte once handled. The driver sends exactly
the bytes trackside sends for the same update, so both servers push the same frames (as text
frames, compressed for the connections that negotiated permessage-deflate).

Runs on uvloop when installed, as uvicorn (and so ``trackside serve``) does. Prints
``{"ws": port, "control": port}`` on stdout when listening; stops on SIGTERM or when the
control connection closes.

    python benchmarks/live_baseline.py [--host 127.0.0.1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import signal
import struct
import sys

from websockets.asyncio.server import ServerConnection, broadcast, serve

HEADER = struct.Struct(">cI")


async def main(host: str) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    snapshot = ""
    stop = asyncio.get_running_loop().create_future()
    handlers: set[asyncio.Task[None]] = set()

    async def viewer(websocket: ServerConnection) -> None:
        if snapshot:
            await websocket.send(snapshot)
        await websocket.wait_closed()

    async def control(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal snapshot
        task = asyncio.current_task()
        assert task is not None
        handlers.add(task)
        try:
            while True:
                kind, length = HEADER.unpack(await reader.readexactly(HEADER.size))
                payload = await reader.readexactly(length)
                if kind == b"S":
                    snapshot = payload.decode()
                else:
                    broadcast(server.connections, payload.decode())  # one str, text frames
                writer.write(b"k")
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass  # the driver is done, or we are stopping
        finally:
            handlers.discard(task)
            writer.close()
            if not stop.done():
                stop.set_result(None)

    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(
            signum, lambda: stop.done() or stop.set_result(None)
        )
    # permessage-deflate for clients that offer it, as the websockets library does by default
    # (and uvicorn, so trackside): both servers then compress for the same subscribers.
    async with serve(viewer, host, 0, max_size=None, backlog=4096) as server:
        side = await asyncio.start_server(control, host, 0)
        ports = {
            "ws": server.sockets[0].getsockname()[1],
            "control": side.sockets[0].getsockname()[1],
        }
        sys.stdout.write(json.dumps(ports) + "\n")
        sys.stdout.flush()
        await stop
        side.close()
        for task in list(handlers):
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    try:
        import uvloop

        runner = uvloop.run
    except ImportError:
        runner = asyncio.run
    runner(main(args.host))
