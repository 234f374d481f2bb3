"""Live timing end to end: relay batches in, the durable log, the processor, live reads."""

from __future__ import annotations

import asyncio

import httpx
import orjson
import pytest
import websockets
from fastapi import FastAPI

from tests.api.world import ISS, World
from tests.conftest import capture
from tests.events.livefeed import capture_lines, post_lines, serving
from tests.timing.replaying import results as replay_results
from trackside.accounts import clients
from trackside.accounts.principals import CallerCache, client_grant
from trackside.accounts.roles import Role
from trackside.api.app import create_app
from trackside.config import Settings
from trackside.events.routes.stream import get_channels
from trackside.live.patch import apply_patch

RACE_DAY = [
    capture("road-america-2025-04-26-entries.log"),
    capture("road-america-2025-04-26-grid.log"),
    capture("road-america-2025-04-26-race-start.log"),
]


def _without_records(session: dict) -> dict:
    return {k: v for k, v in session.items() if k != "records"}


async def test_relayed_capture_scores_like_a_replay(world: World) -> None:
    event = world.ids["public"]
    reply = await post_lines(
        world.client, world.tokens["client_relay"], event, capture_lines(*RACE_DAY)
    )
    assert reply["acked_seq"] == 3521
    live = (await world.client.get(f"/events/{event}/live")).json()  # public: no token
    (expected,) = replay_results(*RACE_DAY)["sessions"]
    (session,) = live["sessions"]
    assert session.pop("classification") == {"status": "provisional", "revision": 0}
    assert session == _without_records(expected)
    assert live["version"] >= 1 and live["current"] == 0
    # The run became one of the event's sessions, with its results.
    sessions = (
        await world.client.get(f"/events/{event}/sessions", headers=world.auth("viewer"))
    ).json()
    made = [s for s in sessions if s["name"] == "Saturday 8 Hour"]
    assert len(made) == 1 and made[0]["type"] == "race"
    results = await world.client.get(f"/events/{event}/sessions/{made[0]['id']}/results")
    assert results.status_code == 200
    assert [c["number"] for c in results.json()["cars"]][:3] == ["2", "70", "11"]
    as_csv = await world.client.get(
        f"/events/{event}/sessions/{made[0]['id']}/results", params={"format": "csv"}
    )
    assert as_csv.headers["content-type"].startswith("text/csv")
    lines = as_csv.text.splitlines()
    assert lines[0].startswith("Pos,No,Class,PIC,Name,Laps,Total,Best")
    assert lines[2].split(",")[:2] == ["2", "70"] and "0.787" in lines[2]


async def test_resent_records_are_acknowledged_once_and_gaps_wait(world: World) -> None:
    event = world.ids["public"]
    token = world.tokens["client_relay"]
    lines = capture_lines(RACE_DAY[0])[:40]
    # Records 21-40 arrive first (the relay's earlier batch is still in flight).
    reply = await post_lines(world.client, token, event, lines[20:], first_seq=21)
    assert (reply["stored"], reply["acked_seq"]) == (20, 0)
    live = (await world.client.get(f"/events/{event}/live")).json()
    assert live["sessions"] == []  # nothing after a gap is scored before the gap is filled
    reply = await post_lines(world.client, token, event, lines[:25])
    assert (reply["stored"], reply["duplicates"], reply["acked_seq"]) == (20, 5, 40)
    again = await post_lines(world.client, token, event, lines)
    assert (again["stored"], again["duplicates"], again["acked_seq"]) == (0, 40, 40)
    ack = await world.client.get(
        f"/relay/events/{event}/records/ack",
        params={"source": "rmonitor"},
        headers=world.auth("client_relay"),
    )
    assert ack.json() == {"source": "rmonitor", "stored": 0, "duplicates": 0, "acked_seq": 40}
    diag = (
        await world.client.get(f"/events/{event}/diagnostics", headers=world.auth("official"))
    ).json()
    assert diag["records"] == 40 and diag["logLength"] == 40


async def test_bad_records_are_kept_counted_and_shown(world: World) -> None:
    event = world.ids["public"]
    token = world.tokens["client_relay"]
    lines = [(1, '$B,7,"Heat"'), (2, "this is not RMonitor"), (3, '$G,x,"1",1,"00:01:00.000"')]
    await post_lines(world.client, token, event, lines)
    body = {
        "source": "mystery",
        "records": [{"seq": 1, "received_at": 4, "type": "telepathy", "data": "?"}],
    }
    ok = await world.client.post(
        f"/relay/events/{event}/records", json=body, headers=world.auth("client_relay")
    )
    assert ok.status_code == 200
    diag = (
        await world.client.get(f"/events/{event}/diagnostics", headers=world.auth("organizer"))
    ).json()
    assert diag["badRecords"] == 3 and diag["feedErrors"] == 2
    reasons = [sample["reason"] for sample in diag["samples"]]
    assert reasons[0].startswith("not an RMonitor record")
    assert reasons[1].startswith("position: not an integer")
    assert "telepathy" in reasons[2]
    assert [s["source"] for s in diag["sources"]] == ["mystery", "rmonitor"]
    live = (await world.client.get(f"/events/{event}/live")).json()
    assert live["sessions"][0]["name"] == "Heat"  # the event went on


async def test_bad_batches_are_refused_with_the_field_named(world: World) -> None:
    event = world.ids["public"]
    for body, field in [
        (
            {
                "source": "a",
                "records": [{"seq": 0, "received_at": 1, "type": "rmonitor", "data": ""}],
            },
            "seq",
        ),
        ({"source": "", "records": []}, "source"),
        ({"source": "a", "records": [{"seq": 1, "type": "rmonitor", "data": ""}]}, "received_at"),
        ({"source": "a", "records": "nope"}, "records"),
    ]:
        response = await world.client.post(
            f"/relay/events/{event}/records", json=body, headers=world.auth("client_relay")
        )
        assert response.status_code == 422, response.text
        assert field in response.text
    missing = await world.client.post(
        "/relay/events/999999/records",
        json={"source": "a", "records": []},
        headers=world.auth("admin"),
    )
    assert missing.status_code == 404


async def test_private_live_needs_a_token(world: World) -> None:
    private = world.ids["private"]
    assert (await world.client.get(f"/events/{private}/live")).status_code == 401
    viewer = await world.client.get(f"/events/{private}/live", headers=world.auth("viewer"))
    assert viewer.status_code == 403
    organizer = await world.client.get(f"/events/{private}/live", headers=world.auth("organizer"))
    assert organizer.json()["sessions"][0]["name"] == "Test Race"


async def test_restart_replays_the_log_to_the_same_standings(
    settings: Settings, world: World
) -> None:
    event = world.ids["public"]
    await post_lines(world.client, world.tokens["client_relay"], event, capture_lines(*RACE_DAY))
    before = (await world.client.get(f"/events/{event}/live")).json()
    sessions_before = (
        await world.client.get(f"/events/{event}/sessions", headers=world.auth("viewer"))
    ).json()
    again = create_app(settings)  # a second server on the same database: the first "died"
    async with again.router.lifespan_context(again):
        transport = httpx.ASGITransport(app=again)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            after = (await client.get(f"/events/{event}/live")).json()
            sessions_after = (
                await client.get(f"/events/{event}/sessions", headers=world.auth("viewer"))
            ).json()
    assert after["sessions"] == before["sessions"]
    assert sessions_after == sessions_before  # no session made twice


async def test_websocket_snapshot_then_patches_add_up(app: FastAPI, world: World) -> None:
    event = world.ids["public"]
    lines = capture_lines(*RACE_DAY)
    await post_lines(world.client, world.tokens["client_relay"], event, lines[:1500])
    async with serving(app) as host, websockets.connect(f"ws://{host}/ws/events/{event}") as ws:
        first = orjson.loads(await ws.recv())
        assert first["type"] == "snapshot"
        snapshot = first["data"]
        await post_lines(
            world.client,
            world.tokens["client_relay"],
            event,
            lines[1500:],
            batch=50,
            first_seq=1501,
        )
        final = (await world.client.get(f"/events/{event}/live")).json()
        patches = 0
        while snapshot["version"] < final["version"]:
            message = orjson.loads(await asyncio.wait_for(ws.recv(), 10))
            if message["type"] == "ping":
                continue
            assert message["type"] == "patch"
            snapshot = apply_patch(snapshot, message)
            patches += 1
        assert snapshot == final
        assert patches > 10
        await ws.send('{"type": "resync"}')
        fresh = orjson.loads(await asyncio.wait_for(ws.recv(), 10))
        assert fresh["type"] == "snapshot" and fresh["data"] == final


async def test_websocket_refusals(app: FastAPI, world: World) -> None:
    async with serving(app) as host:
        for path, code in [
            (f"/ws/events/{world.ids['private']}", 4401),
            (f"/ws/events/{world.ids['private']}?access_token=garbage", 4401),
            (f"/ws/events/{world.ids['private']}?access_token={world.tokens['viewer']}", 4403),
            ("/ws/events/999999", 4404),
        ]:
            async with websockets.connect(f"ws://{host}{path}") as ws:
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    await asyncio.wait_for(ws.recv(), 5)
                assert closed.value.rcvd.code == code
        url = (
            f"ws://{host}/ws/events/{world.ids['private']}?access_token={world.tokens['organizer']}"
        )
        async with websockets.connect(url) as ws:
            first = orjson.loads(await ws.recv())
            assert first["data"]["sessions"][0]["name"] == "Test Race"


async def test_missing_sessions_charts_and_pages_are_404(world: World) -> None:
    event = world.ids["public"]
    for path in (
        f"/events/{event}/sessions/999999/results",  # no such session
        f"/events/{event}/sessions/{world.ids['race']}/results",  # a session never timed
        f"/events/{event}/live/sessions/5/charts/laps.svg",  # no such live session
    ):
        response = await world.client.get(path)
        assert response.status_code == 404, path
        assert response.json()["detail"]
    page = await world.client.get("/events/999999", headers={"Accept": "text/html"})
    assert page.status_code == 404 and "no event 999999" in page.text
    board = await world.client.get(f"/events/{event}", headers={"Accept": "text/html"})
    assert board.status_code == 200 and 'data-event-id="' in board.text
    api = await world.client.get(f"/events/{event}", headers=world.auth("viewer"))
    assert api.json()["id"] == event  # API clients still get the Status API's JSON


async def test_pages_answering_by_accept_say_so_to_caches(world: World) -> None:
    """``/`` and ``/events/{id}`` are HTML or JSON by ``Accept``: a shared cache must not hand
    the board's HTML to an API client (or the JSON to a browser)."""
    event = world.ids["public"]
    for path in ("/", f"/events/{event}", "/events/999999"):
        for accept in ("text/html", "application/json"):
            response = await world.client.get(path, headers={"Accept": accept})
            vary = {v.strip().lower() for v in response.headers.get("vary", "").split(",")}
            assert "accept" in vary, (path, accept, response.headers)
    other = await world.client.get("/healthz")
    assert "accept" not in other.headers.get("vary", "").lower()


async def test_a_revoked_relay_client_is_refused_within_the_recheck(world: World) -> None:
    """The relay's caller is cached per token (its hot path) and read again in the background
    once older than ``recheck_s``: a relay that keeps posting is refused one request after that
    read; one silent for longer than twice ``recheck_s`` is read again before it is served."""
    event = world.ids["public"]
    path = f"/relay/events/{event}/records/ack"
    params = {"source": "rmonitor"}

    async def relay_client() -> tuple[str, dict[str, str]]:
        async with world.platform.db_factory() as db:
            made = await clients.create(db, name="relay", role=Role.OFFICIAL, event_id=event)
            await db.commit()
        token = world.platform.tokens.for_client(
            client_id=made.client.client_id,
            grant=client_grant(made.client),
            scope="",
            client_address="127.0.0.1",
            iss=ISS,
        )
        return made.client.client_id, {"Authorization": f"Bearer {token}"}

    async def status(headers: dict[str, str]) -> int:
        return (await world.client.get(path, params=params, headers=headers)).status_code

    world.platform.relay_callers = CallerCache(recheck_s=0.2)
    # Posting on: served from the cache while it is read again, then refused.
    client_id, headers = await relay_client()
    assert await status(headers) == 200
    async with world.platform.db_factory() as db:
        await clients.revoke(db, client_id)
    assert await status(headers) == 200  # within recheck_s: the cache is believed
    await asyncio.sleep(0.25)
    assert await status(headers) == 200  # older than recheck_s: served, read again meanwhile
    # Refused once that read is done (waiting for it, not for a fixed time: under load the
    # database answers slower).
    for _ in range(200):
        await asyncio.sleep(0.05)
        if (answer := await status(headers)) != 200:
            break
    assert answer == 401
    # Silent for longer than twice recheck_s: refused at once.
    client_id, headers = await relay_client()
    assert await status(headers) == 200
    async with world.platform.db_factory() as db:
        await clients.revoke(db, client_id)
    await asyncio.sleep(0.45)
    assert await status(headers) == 401


async def test_viewers_joining_together_share_one_compressed_snapshot(
    app: FastAPI, world: World
) -> None:
    """Browsers offer permessage-deflate: viewers that connect at the same version get the
    snapshot compressed once for all of them, then follow the patches, each board right."""
    event = world.ids["public"]
    lines = capture_lines(*RACE_DAY)
    relay = world.tokens["client_relay"]
    await post_lines(world.client, relay, event, lines[:1500])
    url = lambda host: f"ws://{host}/ws/events/{event}"  # noqa: E731
    async with serving(app) as host:
        clients = [await websockets.connect(url(host), compression="deflate") for _ in range(4)]
        try:
            boards = [orjson.loads(await client.recv())["data"] for client in clients]
            assert all(board == boards[0] for board in boards)
            first = boards[0]["version"]
            channel = get_channels(app)._channels[event]
            assert channel._made is not None
            assert channel._made[1].deflate is not None
            assert channel._made[1].deflate.compressed == 1  # once for the four
            await post_lines(world.client, relay, event, lines[1500:1800], 30, first_seq=1501)
            final = (await world.client.get(f"/events/{event}/live")).json()
            for index, client in enumerate(clients):
                while boards[index]["version"] < final["version"]:
                    message = orjson.loads(await asyncio.wait_for(client.recv(), 10))
                    if message["type"] == "patch":
                        boards[index] = apply_patch(boards[index], message)
                assert boards[index] == final
            # Each patch compressed once for the four (pings aside: none within 20 s).
            assert channel.deflate.compressed == final["version"] - first
        finally:
            for client in clients:
                await client.close()
