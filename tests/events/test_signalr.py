"""The status hub ``/event-status`` against real clients on a real server.

The official clients: ``@microsoft/signalr`` run by node (tests/node/hub_client.mjs) and
``signalrcore``; a raw WebSocket for what the clients hide (frames, refusals, close codes). A
real capture goes in through the relay API; what each client rebuilds from its ``ReceiveMessage``
payloads must match ``/events/{id}/live`` as ``live/compact.py`` renders it.

SQLite only: the hub reads the database just to find an event and a token's account, which the
access and live tests cover on both databases; PostgreSQL would double the time for nothing.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
import websockets
from fastapi import FastAPI

from tests.api.world import World
from tests.conftest import capture
from tests.events.hubclients import (
    NODE,
    NODE_DIR,
    RS,
    WAIT_S,
    Board,
    NodeHubClient,
    PythonHubClient,
    check_board,
    decode,
    event_info,
    expected_board,
    frames,
    node_client,
    raw_hub,
    until,
)
from tests.events.livefeed import capture_lines, free_port, post_lines, serving
from trackside.events.hub import Follower
from trackside.events.routes.signalr import get_hub

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

RACE_DAY = [
    capture("road-america-2025-04-26-entries.log"),
    capture("road-america-2025-04-26-grid.log"),
    capture("road-america-2025-04-26-race-start.log"),
]
# signalrcore never answers WebSocket pings: uvicorn's own would drop it (the hub pings itself).
NO_WS_PINGS = {"ws_ping_interval": None, "ws_ping_timeout": None}

needs_node = pytest.mark.skipif(
    NODE is None or not (NODE_DIR / "node_modules" / "@microsoft" / "signalr").is_dir(),
    reason="node and tests/node/node_modules (scripts/test installs them) are needed",
)


@pytest.fixture(autouse=True)
def no_timed_fulls(app: FastAPI) -> None:
    """Full payloads only when the tests make them: a slow machine must not add timed ones."""
    get_hub(app).full_every_ms = 3_600_000


@pytest.fixture
def quick_pings(app: FastAPI) -> None:
    """signalrcore's stop() waits for a frame to wake its reader thread: ping often."""
    get_hub(app).keep_alive_ms = 200


# --- the raw protocol -------------------------------------------------------------------------


async def test_negotiate_answers_v1_and_v0(world: World) -> None:
    client = world.client
    v1 = await client.post("/event-status/negotiate", params={"negotiateVersion": 1})
    assert v1.status_code == 200 and v1.headers["content-type"] == "application/json"
    body = v1.json()
    assert list(body) == [
        "connectionToken",
        "connectionId",
        "negotiateVersion",
        "availableTransports",
    ]
    assert body["negotiateVersion"] == 1 and body["connectionToken"] != body["connectionId"]
    websocket = {"transport": "WebSockets", "transferFormats": ["Text", "Binary"]}
    assert body["availableTransports"] == [websocket]
    v0 = (await client.post("/event-status/negotiate")).json()
    assert list(v0) == ["connectionId", "negotiateVersion", "availableTransports"]
    assert v0["negotiateVersion"] == 0 and v0["connectionId"]
    later = await client.post("/event-status/negotiate", params={"negotiateVersion": 7})
    assert later.json()["negotiateVersion"] == 1  # min(requested, 1)
    bad = await client.post("/event-status/negotiate", params={"negotiateVersion": "x"})
    assert bad.status_code == 400 and "negotiateVersion" in bad.json()["error"]
    # A token is not needed; one sent must be good, in the header or the query.
    for params, headers in (({}, world.auth("viewer")), ({"access_token": "nope"}, {})):
        answer = await client.post("/event-status/negotiate", params=params, headers=headers)
        assert answer.status_code == (200 if headers else 401), answer.text
    expired = await client.post("/event-status/negotiate", headers=world.auth("expired"))
    assert expired.status_code == 401 and expired.json()["error"].startswith("Unauthorized")
    assert expired.headers["www-authenticate"].startswith("Bearer")


async def test_raw_protocol_subscribe_ping_and_ids(app: FastAPI, world: World) -> None:
    event = world.ids["public"]
    get_hub(app).keep_alive_ms = 100  # pings without waiting 15 s
    async with serving(app) as host:
        token = (
            await world.client.post("/event-status/negotiate", params={"negotiateVersion": 1})
        ).json()["connectionToken"]
        async with raw_hub(host, f"?id={token}") as hub:
            # One socket an id; an id nobody negotiated is unknown.
            for query, status in ((f"?id={token}", 409), ("?id=made-up", 404)):
                with pytest.raises(websockets.InvalidStatus) as refused:
                    async with websockets.connect(f"ws://{host}/event-status{query}"):
                        pass
                assert refused.value.response.status_code == status
            await hub.send(type=1, invocationId="1", target="SubscribeToEvent", arguments=[event])
            first = await hub.recv_type(1)
            assert list(first) == ["type", "target", "arguments"]  # a broadcast: no invocationId
            assert first["target"] == "ReceiveMessage"
            full, payload = decode(first["arguments"][0])
            assert full and payload["e"] == event and payload["n"] == "Summer Enduro"
            assert payload["es"] is None and payload["cps"] == []  # nothing relayed yet
            assert await hub.recv_type(3) == {"type": 3, "invocationId": "1"}
            await hub.send(type=1, invocationId="2", target="Nope", arguments=[])
            assert (await hub.recv_type(3))["error"] == "Unknown hub method 'Nope'"
            await hub.send(type=1, invocationId="3", target="subscribetoevent", arguments=["x"])
            assert "event id" in (await hub.recv_type(3))["error"]
            await hub.send(type=1, target="UnsubscribeFromEvent", arguments=[event])
            assert await hub.recv() == {"type": 6}  # no Completion without an id; a ping
            await hub.send(type=6)
            await hub.send(type=7)
            with pytest.raises(websockets.ConnectionClosed):
                while True:
                    await hub.recv()
        # Clients that skip negotiation connect straight to the hub.
        async with raw_hub(host) as hub:
            await hub.send(type=1, invocationId="a", target="SubscribeToEvent", arguments=[event])
            assert (await hub.recv_type(1))["target"] == "ReceiveMessage"
            assert await hub.recv_type(3) == {"type": 3, "invocationId": "a"}
        async with raw_hub(host, handshake=False) as hub:
            await hub.ws.send('{"protocol":"messagepack","version":1}' + RS)
            answer = await hub.recv()
            assert answer == {"error": "Requested protocol 'messagepack' is not available."}
            with pytest.raises(websockets.ConnectionClosed):
                await hub.recv()
        await until(lambda: get_hub(app).following(event) == 0, "every follower left")


async def test_malformed_frames_close_the_connection_cleanly(
    app: FastAPI, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """Invalid UTF-8 and odd digits are protocol errors: a close or an error answer, never a
    traceback, a 1011 or a connection left open with a dead reader."""
    event = world.ids["public"]
    async with serving(app) as host:
        async with raw_hub(host) as hub:
            await hub.send(type=1, invocationId="1", target="SubscribeToEvent", arguments=["²"])
            assert "event id must be an integer" in (await hub.recv_type(3))["error"]
            # A character split across two binary frames is fine …
            message = f'{{"type":1,"target":"UnsubscribeFromEvent","arguments":[{event}]}}{RS}'
            encoded = message.replace("Unsubscribe", "Unsubscribé").encode()
            cut = encoded.index("é".encode()) + 1
            await hub.ws.send(encoded[:cut])
            await hub.ws.send(encoded[cut:])
            await hub.ws.send(b"\xff\xfe{}" + RS.encode())  # … bytes that are no UTF-8 are not
            closing = await hub.recv_type(7)
            assert "UTF-8" in closing["error"]
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await hub.recv()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1000
        async with raw_hub(host, handshake=False) as hub:
            await hub.ws.send(b'{"protocol":"json","version":1}\xc3' + RS.encode())
            with pytest.raises(websockets.ConnectionClosed) as closed:
                while True:
                    await hub.recv()
            assert closed.value.rcvd is not None and closed.value.rcvd.code != 1011
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


async def test_raw_refusals(app: FastAPI, world: World) -> None:
    private = world.ids["private"]

    async def subscribe(query: str, event_id: int) -> dict[str, Any]:
        async with raw_hub(host, query) as hub:
            await hub.send(
                type=1, invocationId="1", target="SubscribeToEvent", arguments=[event_id]
            )
            return await hub.recv()

    async with serving(app) as host:
        refused = await subscribe("", private)
        assert refused == {
            "type": 3,
            "invocationId": "1",
            "error": f"Unauthorized: event {private} is private: send a token",
        }
        viewer = await subscribe(f"?access_token={world.tokens['viewer']}", private)
        assert viewer["error"] == f"Forbidden: event {private} is private"
        missing = await subscribe("", 999_999)
        assert missing["error"] == "Not found: no event 999999"
        organizer = await subscribe(f"?access_token={world.tokens['organizer']}", private)
        full, payload = decode(organizer["arguments"][0])
        assert full and payload["cps"][0]["n"] == "9" and payload["n"] == "Test Day"
        # A bad token: the handshake is answered with an error, then the socket closes 4401.
        for token in ("garbage", world.tokens["expired"]):
            async with raw_hub(host, f"?access_token={token}", handshake=False) as hub:
                await hub.ws.send('{"protocol":"json","version":1}' + RS)
                answer = await hub.recv()
                assert answer["error"].startswith("Unauthorized: ")
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    await hub.recv()
                assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


async def test_full_payloads_keep_coming_while_the_event_is_live(
    app: FastAPI, world: World
) -> None:
    event = world.ids["public"]
    lines = capture_lines(*RACE_DAY)
    await post_lines(world.client, world.tokens["client_relay"], event, lines[:800])
    hub = get_hub(app)
    hub.full_every_ms = 50  # instead of 5 s
    follower = Follower()
    await hub.subscribe(follower, event, None)
    payloads = []
    for _ in range(4):  # nothing new is relayed: the timer alone sends these
        item = await follower.next(WAIT_S)
        assert item is not None
        payloads.append(decode(frames(item[0])[0]["arguments"][0]))
    assert all(full for full, _ in payloads)
    assert all(payload == payloads[0][1] for _, payload in payloads)
    assert payloads[0][1]["cps"]
    hub.leave(follower)


async def test_a_connection_too_far_behind_gets_a_fresh_full_payload(
    app: FastAPI, world: World
) -> None:
    event = world.ids["public"]
    hub = get_hub(app)
    follower = Follower(limit=4)  # never read while the race is relayed
    await hub.subscribe(follower, event, None)
    await post_lines(world.client, world.tokens["client_relay"], event, capture_lines(*RACE_DAY))
    snapshot = (await world.client.get(f"/events/{event}/live")).json()
    expected = expected_board(snapshot, await event_info(world, event))
    assert follower.queued <= 4
    board = Board()
    async with asyncio.timeout(WAIT_S):
        while board.state != expected:
            item = await follower.next(WAIT_S)
            assert item is not None
            full, payload = decode(frames(item[0])[0]["arguments"][0])
            assert full or board.fulls  # it starts over from a full payload
            board.apply(full, payload)
    check_board(board, snapshot, expected)
    hub.leave(follower)
    assert hub.following(event) == 0


# --- @microsoft/signalr under node ------------------------------------------------------------


@needs_node
async def test_node_client_follows_a_race_and_resumes_after_a_restart(
    app: FastAPI, world: World
) -> None:
    event = world.ids["public"]
    relay = world.tokens["client_relay"]
    lines = capture_lines(*RACE_DAY)
    info = await event_info(world, event)
    await post_lines(world.client, relay, event, lines[:1500])
    port = free_port()

    async def caught_up(client: NodeHubClient) -> None:
        snapshot = (await world.client.get(f"/events/{event}/live")).json()
        expected = expected_board(snapshot, info)
        await client.follow_until(lambda: client.board.state == expected)
        check_board(client.board, snapshot, expected)

    async with node_client(f"http://127.0.0.1:{port}/event-status") as client:
        async with serving(app, port):
            await client.send(op="start")
            await client.expect("started")
            await client.send(op="subscribe", event=event)
            await client.expect("done", op="subscribe", error=None)
            assert client.board.fulls == 1  # the full payload came with the subscription
            await post_lines(world.client, relay, event, lines[1500:2500], 50, first_seq=1501)
            await caught_up(client)
            # Followed by incremental payloads too (as many as the hub sent: posts that come
            # faster than it sends are merged into one).
            assert client.board.incrementals > 0
        # The server went away; it comes back on the same port. The client reconnects by
        # itself, follows the event again and starts over from a full payload.
        await client.expect("reconnecting")
        fulls, incrementals = client.board.fulls, client.board.incrementals
        async with serving(app, port):
            await client.expect("reconnected")
            await client.expect("done", op="subscribe", error=None)
            assert client.board.fulls == fulls + 1
            await post_lines(world.client, relay, event, lines[2500:], 50, first_seq=2501)
            await caught_up(client)
            assert client.board.incrementals > incrementals
            # Stopping and starting the connection also starts over from a full payload.
            await client.send(op="restart")
            await client.expect("started")
            await client.expect("done", op="subscribe", error=None)
            assert client.seen[-2]["kind"] == "status" and client.seen[-2]["full"] is True
            await client.send(op="unsubscribe", event=event)
            await client.expect("done", op="unsubscribe", error=None)
            await until(lambda: get_hub(app).following(event) == 0, "the client left")


@needs_node
async def test_node_client_refusals(app: FastAPI, world: World) -> None:
    private = world.ids["private"]
    async with serving(app) as host:
        url = f"http://{host}/event-status"
        async with node_client(url) as client:
            await client.send(op="start")
            await client.expect("started")
            await client.send(op="subscribe", event=private)
            done = await client.expect("done")
            assert "Unauthorized" in done["error"]
            await client.send(op="subscribe", event=999_999)
            assert "Not found" in (await client.expect("done"))["error"]
        async with node_client(url, "--token", world.tokens["organizer"]) as client:
            await client.send(op="start")
            await client.expect("started")
            await client.send(op="subscribe", event=private)
            await client.expect("done", error=None)
            assert client.board.state is not None and client.board.state["n"] == "Test Day"
        async with node_client(url, "--token", "garbage") as client:
            await client.send(op="start")
            failed = await client.expect("start-failed")
            assert "401" in failed["error"]  # negotiate refuses a bad token
        async with node_client(url, "--token", "garbage", "--skip-negotiation") as client:
            await client.send(op="start")
            failed = await client.expect("start-failed")
            assert "handshake error" in failed["error"] and "Unauthorized" in failed["error"]
        async with node_client(url, "--skip-negotiation") as client:
            await client.send(op="start")
            await client.expect("started")
            await client.send(op="subscribe", event=world.ids["public"])
            await client.expect("done", error=None)
            assert client.board.fulls == 1


# --- signalrcore ------------------------------------------------------------------------------


@pytest.mark.usefixtures("quick_pings")
async def test_signalrcore_follows_a_race(app: FastAPI, world: World) -> None:
    event = world.ids["public"]
    relay = world.tokens["client_relay"]
    lines = capture_lines(*RACE_DAY)
    info = await event_info(world, event)
    await post_lines(world.client, relay, event, lines[:1500])
    async with serving(app, **NO_WS_PINGS) as host:
        client = PythonHubClient(f"http://{host}/event-status")
        await client.start()  # negotiate v0: the socket's id is the connectionId
        try:
            client.subscribe(event)
            await client.expect("done")
            assert client.board.fulls == 1
            await post_lines(world.client, relay, event, lines[1500:], 50, first_seq=1501)
            snapshot = (await world.client.get(f"/events/{event}/live")).json()
            expected = expected_board(snapshot, info)
            await client.follow_until(lambda: client.board.state == expected)
            check_board(client.board, snapshot, expected)
            assert client.board.incrementals > 10
            # A new connection resumes with a full payload.
            await client.stop()
            await client.start()
            fulls = client.board.fulls
            client.subscribe(event)
            await client.expect("done")
            assert client.board.fulls == fulls + 1 and client.board.state == expected
        finally:
            await client.stop()


@pytest.mark.usefixtures("quick_pings")
async def test_signalrcore_token_and_refusals(app: FastAPI, world: World) -> None:
    private = world.ids["private"]
    async with serving(app, **NO_WS_PINGS) as host:
        anonymous = PythonHubClient(f"http://{host}/event-status")
        await anonymous.start()
        try:
            anonymous.subscribe(private)
            assert (await anonymous.expect("error")).startswith("Unauthorized: ")
            anonymous.subscribe(999_999)
            assert await anonymous.expect("error") == "Not found: no event 999999"
        finally:
            await anonymous.stop()
        organizer = PythonHubClient(f"http://{host}/event-status", world.tokens["organizer"])
        await organizer.start()  # the token goes in the Authorization header
        try:
            organizer.subscribe(private)
            await organizer.expect("done")
            assert organizer.board.state is not None
            assert list(organizer.board.state["cps"]) == ["9"]
        finally:
            await organizer.stop()
