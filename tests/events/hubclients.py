"""Hub clients for the tests: the official ones driven from asyncio, a raw socket, and the board
each rebuilds from ``ReceiveMessage`` payloads."""

from __future__ import annotations

import asyncio
import base64
import gzip
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import orjson
import websockets
from signalrcore.hub_connection_builder import HubConnectionBuilder

from tests.api.world import World
from tests.conftest import REPO
from trackside.events.hub import race_day
from trackside.events.models import Event
from trackside.feeds.clock import format_interval
from trackside.live.compact import (
    EventInfo,
    flag_code,
    full_payload,
    live_session_of,
    result_time,
)

RS = "\x1e"
NODE = shutil.which("node")
NODE_DIR = REPO / "tests" / "node"
WAIT_S = 20.0  # how long a client may take to show what the server sent (a failure bound only)


# --- what a client rebuilds -------------------------------------------------------------------


class Board:
    """A client's view of one event rebuilt from ``ReceiveMessage`` payloads, as a client would:
    a full payload replaces everything, an incremental one replaces the entries, car positions
    and flag durations it carries."""

    def __init__(self) -> None:
        self.state: dict[str, Any] | None = None
        self.fulls = 0
        self.incrementals = 0

    def apply(self, full: bool, payload: dict[str, Any]) -> None:
        if full:
            self.fulls += 1
            self.state = {
                "e": payload["e"],
                "n": payload["n"],
                "es": payload["es"],
                "ee": {entry["no"]: entry for entry in payload["ee"]},
                "cps": {position["n"]: position for position in payload["cps"]},
                "fd": payload["fd"],
            }
            assert payload["eeu"] == [] and payload["cpu"] == []
            return
        self.incrementals += 1
        assert self.state is not None, "an incremental payload before any full one"
        assert payload["ee"] == [] and payload["cps"] == [] and payload["r"] is False
        self.state["es"] = payload["es"]
        self.state["ee"].update((entry["no"], entry) for entry in payload["eeu"])
        self.state["cps"].update((position["n"], position) for position in payload["cpu"])
        if payload["fd"] is not None:
            self.state["fd"] = payload["fd"]

    def order(self) -> list[str]:
        assert self.state is not None
        cars = sorted(self.state["cps"].values(), key=lambda p: (p["ovp"] or 10**6, p["n"]))
        return [car["n"] for car in cars]


def expected_board(live: dict[str, Any], event: EventInfo) -> dict[str, Any]:
    """What a client must hold: ``/events/{id}/live`` as the hub's full payload renders it."""
    board = Board()
    _, session = live_session_of(live)
    board.apply(True, full_payload(session, event))
    assert board.state is not None
    return board.state


async def event_info(world: World, event_id: int) -> EventInfo:
    async with world.platform.db_factory() as db:
        event = await db.get(Event, event_id)
        assert event is not None
        day = race_day(event.start_date, event.end_date, datetime.now(UTC).date())
        return EventInfo(event.id, event.name, day)


def check_board(board: Board, live: dict[str, Any], expected: dict[str, Any]) -> None:
    """The rebuilt board is the live snapshot: order, laps, gaps, last laps, flag."""
    assert board.state == expected
    _, session = live_session_of(live)
    assert session is not None
    cars = [car for car in session["cars"] if car.get("position")]
    assert board.order()[: len(cars)] == [car["number"] for car in cars]
    positions = board.state["cps"]
    for car in cars:
        shown = positions[car["number"]]
        assert shown["llp"] == (car.get("laps") or 0)
        assert shown["og"] == format_interval(car.get("gap_ms"), car.get("gap_laps"))
        assert shown["ltm"] == result_time(car.get("last_lap_ms"))
    assert board.state["es"]["f"] == flag_code(session.get("flag"))


def decode(status: str) -> tuple[bool, dict[str, Any]]:
    """A ``ReceiveMessage`` argument by hand: base64 + gzip for full ones, else JSON."""
    if status.startswith("{"):
        return False, orjson.loads(status)
    return True, orjson.loads(gzip.decompress(base64.b64decode(status, validate=True)))


async def until(condition: Callable[[], bool], what: str) -> None:
    async with asyncio.timeout(WAIT_S):
        while not condition():
            await asyncio.sleep(0.02)
    assert condition(), what


# --- the raw protocol -------------------------------------------------------------------------


def frames(data: str | bytes) -> list[dict[str, Any]]:
    text = data.decode() if isinstance(data, bytes) else data
    assert text.endswith(RS), text
    return [orjson.loads(piece) for piece in text.split(RS) if piece]


class RawHub:
    """A WebSocket speaking the JSON hub protocol by hand, one message at a time."""

    def __init__(self, ws: websockets.ClientConnection) -> None:
        self.ws = ws
        self.waiting: list[dict[str, Any]] = []

    async def send(self, **message: Any) -> None:
        await self.ws.send(orjson.dumps(message).decode() + RS)

    async def recv(self) -> dict[str, Any]:
        while not self.waiting:
            self.waiting = frames(await asyncio.wait_for(self.ws.recv(), WAIT_S))
        return self.waiting.pop(0)

    async def recv_type(self, kind: int) -> dict[str, Any]:
        """The next message of a type; pings between are skipped."""
        while True:
            message = await self.recv()
            if message.get("type") == kind:
                return message
            assert message.get("type") == 6, message


@asynccontextmanager
async def raw_hub(host: str, query: str = "", handshake: bool = True) -> AsyncIterator[RawHub]:
    async with websockets.connect(f"ws://{host}/event-status{query}") as ws:
        hub = RawHub(ws)
        if handshake:
            await ws.send('{"protocol":"json","version":1}' + RS)
            assert await asyncio.wait_for(ws.recv(), WAIT_S) == "{}" + RS
        yield hub


# --- @microsoft/signalr under node --------------------------------------------------------------


class NodeHubClient:
    """tests/node/hub_client.mjs: commands in, what the JS client saw out (JSON lines)."""

    def __init__(self, process: asyncio.subprocess.Process, log: Any) -> None:
        self.process = process
        self.log = log
        self.board = Board()
        self.seen: list[dict[str, Any]] = []

    async def send(self, **command: Any) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(orjson.dumps(command) + b"\n")
        await self.process.stdin.drain()

    async def next(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), WAIT_S)
        if not line:
            self.log.seek(0)
            raise AssertionError(f"the node client ended: {self.log.read().decode()}")
        message = orjson.loads(line)
        self.seen.append(message)
        if message["kind"] == "status":
            self.board.apply(message["full"], message["payload"])
        return message

    async def expect(self, kind: str, **fields: Any) -> dict[str, Any]:
        """Read on (statuses go to the board) until a message of this kind."""
        while True:
            message = await self.next()
            if message["kind"] == kind:
                assert {k: message.get(k) for k in fields} == fields, message
                return message

    async def follow_until(self, condition: Callable[[], bool]) -> None:
        async with asyncio.timeout(WAIT_S):
            while not condition():
                await self.next()


@asynccontextmanager
async def node_client(url: str, *args: str) -> AsyncIterator[NodeHubClient]:
    assert NODE is not None
    with tempfile.TemporaryFile() as log:
        process = await asyncio.create_subprocess_exec(
            NODE,
            str(NODE_DIR / "hub_client.mjs"),
            url,
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=log,
            cwd=NODE_DIR,
        )
        client = NodeHubClient(process, log)
        try:
            yield client
        finally:
            if process.returncode is None:
                try:
                    await client.send(op="stop")
                    await asyncio.wait_for(process.wait(), 10)
                except (TimeoutError, ConnectionError):
                    process.kill()
                    await process.wait()


# --- signalrcore --------------------------------------------------------------------------------


class PythonHubClient:
    """signalrcore's HubConnectionBuilder, its callbacks (on its own thread) handed to the loop."""

    def __init__(self, url: str, token: str | None = None) -> None:
        self.loop = asyncio.get_running_loop()
        self.events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.board = Board()
        options: dict[str, Any] = {}
        if token is not None:
            options["access_token_factory"] = lambda: token
        self.connection = HubConnectionBuilder().with_url(url, options=options).build()
        self.connection.on("ReceiveMessage", lambda args: self._put("status", args[0]))
        self.connection.on_open(lambda: self._put("open", None))
        self.connection.on_close(lambda: self._put("close", None))
        self.connection.on_error(lambda completion: self._put("error", completion.error))

    def _put(self, kind: str, value: Any) -> None:
        self.loop.call_soon_threadsafe(self.events.put_nowait, (kind, value))

    async def start(self) -> None:
        assert await asyncio.to_thread(self.connection.start)
        await self.expect("open")

    async def stop(self) -> None:
        await asyncio.to_thread(self.connection.stop)

    def subscribe(self, event_id: int) -> None:
        self.connection.invoke(
            "SubscribeToEvent", [event_id], on_invocation=lambda _: self._put("done", event_id)
        )

    async def expect(self, kind: str) -> Any:
        while True:
            got, value = await asyncio.wait_for(self.events.get(), WAIT_S)
            if got == "status":
                self.board.apply(*decode(value))
            if got == kind:
                return value

    async def follow_until(self, condition: Callable[[], bool]) -> None:
        async with asyncio.timeout(WAIT_S):
            while not condition():
                await self.expect("status")
