"""The relay's lane (``api.relay_lane``): a POST of records whose caller and event are already
known is answered without the route, exactly as the route answers it; everything else reaches
the route with its body intact."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from tests.api.world import World
from trackside.accounts.principals import CallerCache
from trackside.accounts.ratelimit import InMemoryRateLimiter
from trackside.api.deps import EventRef, relay_event_key, relay_limit_key
from trackside.api.relay_lane import RelayLane
from trackside.errors import NotFound
from trackside.events import ingest
from trackside.events.routes.relay import append_records
from trackside.events.schemas import RelayBatchIn

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def batch(first: int, count: int = 3, source: str = "rmonitor") -> bytes:
    records = [
        {"seq": seq, "received_at": 1_745_700_000_000 + seq, "type": "rmonitor", "data": "$F,0"}
        for seq in range(first, first + count)
    ]
    return orjson.dumps({"source": source, "records": records})


class Route:
    """Stands where the app's routes are: notes what reached it."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        self.bodies.append(b"".join(chunks))
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": b"route"})


async def call(
    lane: RelayLane,
    app: FastAPI,
    event: int,
    body: bytes,
    token: str | None,
    content_type: bytes = b"application/json",
    chunk: int | None = None,
) -> tuple[int, bytes]:
    headers = [(b"content-type", content_type)]
    if token is not None:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    scope = {
        "type": "http",
        "method": "POST",
        "path": f"/relay/events/{event}/records",
        "headers": headers,
        "app": app,
    }
    pieces = [body[i : i + chunk] for i in range(0, len(body), chunk)] if chunk else [body]
    messages = [
        {"type": "http.request", "body": piece, "more_body": i < len(pieces) - 1}
        for i, piece in enumerate(pieces)
    ]

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    sent: dict[str, Any] = {}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            sent["status"] = message["status"]
        else:
            sent["body"] = message["body"]

    await lane(scope, receive, send)
    return sent["status"], sent["body"]


async def test_a_known_relay_is_answered_as_the_route_would(app: FastAPI, world: World) -> None:
    event = world.ids["public"]
    token = world.tokens["client_relay"]
    path = f"/relay/events/{event}/records"
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    world.platform.relay_callers = CallerCache()  # the first POST goes through the route
    first = await world.client.post(path, content=batch(1), headers=headers)
    lane = RelayLane(Route(), 1_000_000)
    status, body = await call(lane, app, event, batch(4), token)
    assert status == 200 and lane.app.bodies == []  # answered here
    assert orjson.loads(body) == {
        "source": "rmonitor",
        "stored": 3,
        "duplicates": 0,
        "acked_seq": 6,
    }
    # The same batch again, through the route and through the lane: the same bytes.
    world.platform.relay_callers = CallerCache()
    by_route = await world.client.post(path, content=batch(1, 6), headers=headers)
    status, by_lane = await call(lane, app, event, batch(1, 6), token)
    assert lane.app.bodies == []
    assert (first.status_code, by_route.status_code, status) == (200, 200, 200)
    assert by_route.headers["content-type"] == "application/json"
    assert by_lane == by_route.content
    async with world.platform.db_factory() as db:
        assert await ingest.acked_seq(db, event, "rmonitor") == 6
    # Through the whole app, the lane answers the known relay too (same reply).
    again = await world.client.post(path, content=batch(7), headers=headers)
    assert again.status_code == 200 and again.json()["acked_seq"] == 9


async def test_on_sqlite_the_lane_opens_no_session(app: FastAPI, world: World) -> None:
    """The writer stores the batch on its own connection: the lane opens no session, for a
    small batch (on the loop) or a large one."""
    event = world.ids["public"]
    token = world.tokens["client_relay"]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    path = f"/relay/events/{event}/records"
    assert (await world.client.post(path, content=batch(1), headers=headers)).status_code == 200
    platform = world.platform
    sessions = platform.db_factory
    opened: list[AsyncSession] = []

    def counted() -> AsyncSession:
        opened.append(sessions())
        return opened[-1]

    platform.db_factory = counted  # type: ignore[assignment]
    lane = RelayLane(Route(), 1_000_000)
    try:
        small = await call(lane, app, event, batch(4), token)
        large = await call(lane, app, event, batch(7, ingest.MAX_BATCH), token)
    finally:
        platform.db_factory = sessions
    assert lane.app.bodies == []  # both answered by the lane
    assert orjson.loads(small[1])["acked_seq"] == 6
    assert orjson.loads(large[1])["acked_seq"] == 6 + ingest.MAX_BATCH
    assert opened == []
    async with platform.db_factory() as db:
        assert await ingest.acked_seq(db, event, "rmonitor") == 6 + ingest.MAX_BATCH


async def test_anything_else_reaches_the_route_with_its_body(app: FastAPI, world: World) -> None:
    event = world.ids["public"]
    token = world.tokens["client_relay"]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    response = await world.client.post(
        f"/relay/events/{event}/records", content=batch(1), headers=headers
    )
    assert response.status_code == 200  # the caller and the event are known now
    route = Route()
    lane = RelayLane(route, max_body_bytes=2_000)
    big = batch(1, 40)
    assert len(big) > 2_000
    refused = [
        (event, batch(4), None, b"application/json"),  # no token
        (event, batch(4), "not-a-known-token", b"application/json"),
        (world.ids["private"], batch(4), token, b"application/json"),  # not this caller's event
        (2**31, batch(4), token, b"application/json"),  # beyond the route's event ids
        (event, b'{"source": "rmonitor", "records": [{"seq": "1"}]}', token, b"application/json"),
        (event, b"{not json", token, b"application/json"),
        (event, batch(4), token, b"text/plain"),
        (event, big, token, b"application/json"),  # over the body limit
    ]
    for event_id, body, caller, content_type in refused:
        status, reply = await call(lane, app, event_id, body, caller, content_type, chunk=500)
        assert (status, reply) == (299, b"route")
        assert route.bodies[-1] == body  # whole, in order
    # Rate limited: the route says so (this lane never refuses).
    world.platform.limiter = limiter = InMemoryRateLimiter()
    settings = world.platform.settings
    principal = world.platform.relay_callers.cached(
        token, world.platform.tokens, world.platform.db_factory
    )
    assert principal is not None
    key = relay_limit_key(principal.principal)
    while await limiter.hit(key, settings.relay_rate_limit, settings.rate_limit_window_s) is None:
        pass
    status, reply = await call(lane, app, event, batch(4), token)
    assert (status, reply) == (299, b"route")
    assert len(route.bodies) == len(refused) + 1


async def test_a_relay_that_drops_mid_body_stores_nothing(app: FastAPI, world: World) -> None:
    """The connection goes before the body is whole: nothing is appended here, and the route
    is handed what came and then the disconnect, as it would have been without the lane."""
    event = world.ids["public"]
    token = world.tokens["client_relay"]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    path = f"/relay/events/{event}/records"
    assert (await world.client.post(path, content=batch(1), headers=headers)).status_code == 200
    body = batch(4)
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": body[:40], "more_body": True},
        {"type": "http.disconnect"},
    ]
    seen: list[dict[str, Any]] = []

    async def route(scope: Any, receive: Any, send: Any) -> None:
        seen.append(await receive())
        seen.append(await receive())

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: dict[str, Any]) -> None:
        raise AssertionError("the lane answered a request whose body never came")

    scope = {
        "type": "http",
        "method": "POST",
        "path": path,
        "headers": [
            (b"content-type", b"application/json"),
            (b"authorization", f"Bearer {token}".encode()),
        ],
        "app": app,
    }
    await RelayLane(route, 1_000_000)(scope, receive, send)
    assert seen == [
        {"type": "http.request", "body": body[:40], "more_body": True},
        {"type": "http.disconnect"},
    ]
    async with world.platform.db_factory() as db:
        assert await ingest.acked_seq(db, event, "rmonitor") == 3


async def test_an_empty_batch_is_acknowledged_by_the_lane_and_the_route(
    app: FastAPI, world: World
) -> None:
    """A relay with nothing new may post no records (a keep-alive): it gets where it stands."""
    event = world.ids["public"]
    token = world.tokens["client_relay"]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    path = f"/relay/events/{event}/records"
    empty = orjson.dumps({"source": "rest", "records": []})
    world.platform.relay_callers = CallerCache()  # the first POST goes through the route
    first = await world.client.post(path, content=empty, headers=headers)
    assert first.status_code == 200, first.text
    assert first.json() == {"source": "rest", "stored": 0, "duplicates": 0, "acked_seq": 0}
    assert (await world.client.post(path, content=batch(1), headers=headers)).status_code == 200
    lane = RelayLane(Route(), 1_000_000)
    status, body = await call(lane, app, event, empty, token)
    assert lane.app.bodies == []  # answered by the lane
    assert (status, orjson.loads(body)["acked_seq"]) == (200, 0)
    status, body = await call(
        lane, app, event, orjson.dumps({"source": "rmonitor", "records": []}), token
    )
    assert (status, orjson.loads(body)) == (
        200,
        {"source": "rmonitor", "stored": 0, "duplicates": 0, "acked_seq": 3},
    )


async def test_an_event_deleted_while_its_relay_is_cached_is_not_found(
    app: FastAPI, world: World
) -> None:
    """The caller's right to the event is kept for seconds; the event may go meanwhile: the
    lane and the route both answer 404, nothing is stored, and the server stays up."""
    event = world.ids["public"]
    token = world.tokens["client_relay"]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    path = f"/relay/events/{event}/records"
    assert (await world.client.post(path, content=batch(1), headers=headers)).status_code == 200
    deleted = await world.client.delete(f"/events/{event}", headers=world.auth("admin"))
    assert deleted.status_code == 204
    caller = world.platform.relay_callers.cached(
        token, world.platform.tokens, world.platform.db_factory
    )
    assert caller is not None and relay_event_key(event) in caller.allowed  # still kept
    lane = RelayLane(Route(), 1_000_000)
    status, reply = await call(lane, app, event, batch(4), token)
    assert (status, reply) == (299, b"route")  # left to the route
    assert relay_event_key(event) not in caller.allowed
    response = await world.client.post(path, content=batch(4), headers=headers)
    assert response.status_code == 404, response.text
    # The route itself, with the right still kept (as the lane leaves it to the route).
    ref = caller.allowed[relay_event_key(event)] = EventRef(event)
    body = RelayBatchIn.model_validate_json(batch(4))
    async with world.platform.db_factory() as db:
        with pytest.raises(NotFound):
            await append_records(body, ref, caller, caller.principal, db, world.platform)
    assert relay_event_key(event) not in caller.allowed
