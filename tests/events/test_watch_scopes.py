"""``events.service.WatchScopes``: a crowd of anonymous viewers connecting at once reads the
event once; what it read is kept for ``ttl_s`` and no longer (a change of visibility reaches
new viewers then), and the live socket refuses and admits by it as by the database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import pytest
import websockets
from fastapi import FastAPI
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from tests.api.world import World
from tests.events.livefeed import serving
from trackside.events.models import Event
from trackside.events.service import WatchScopes


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def counting(world: World, opened: list[int]) -> object:
    """The platform's sessions, counted as they are opened."""

    def factory() -> AbstractAsyncContextManager[AsyncSession]:
        opened.append(1)
        return world.platform.db_factory()

    return factory


async def set_visibility(world: World, event: int, visibility: str) -> None:
    async with world.platform.db_factory() as db:
        await db.execute(update(Event).where(Event.id == event).values(visibility=visibility))
        await db.commit()


async def test_a_crowd_asks_once_and_a_change_shows_after_the_ttl(world: World) -> None:
    event = world.ids["public"]
    clock = Clock()
    scopes = WatchScopes(ttl_s=2.0, clock=clock)
    opened: list[int] = []
    factory = counting(world, opened)
    crowd = await asyncio.gather(*(scopes.get(factory, event) for _ in range(50)))  # type: ignore[arg-type]
    assert {found.visibility for found in crowd if found is not None} == {"public"}
    assert len(opened) == 1  # fifty viewers, one query
    await set_visibility(world, event, "private")
    clock.now += 1.9
    kept = await scopes.get(factory, event)  # type: ignore[arg-type]
    assert kept is not None and kept.visibility == "public"
    clock.now += 0.2
    fresh = await scopes.get(factory, event)  # type: ignore[arg-type]
    assert fresh is not None and fresh.visibility == "private"
    assert len(opened) == 2
    assert await scopes.get(factory, 999_999) is None  # type: ignore[arg-type]


async def test_a_failed_read_fails_everyone_waiting_and_the_next_asks_again(
    world: World,
) -> None:
    scopes = WatchScopes()
    calls: list[int] = []

    @asynccontextmanager
    async def broken() -> AsyncIterator[AsyncSession]:
        calls.append(1)
        await asyncio.sleep(0.01)
        raise ConnectionError("database away")
        yield  # pragma: no cover

    results = await asyncio.gather(
        *(scopes.get(broken, world.ids["public"]) for _ in range(3)), return_exceptions=True
    )
    assert all(isinstance(result, ConnectionError) for result in results)
    assert len(calls) == 1
    found = await scopes.get(world.platform.db_factory, world.ids["public"])
    assert found is not None and found.visibility == "public"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_live_socket_admits_and_refuses_anonymous_viewers_by_it(
    app: FastAPI, world: World
) -> None:
    event = world.ids["public"]
    async with serving(app) as host:
        async with websockets.connect(f"ws://{host}/ws/events/{event}") as ws:
            assert '"snapshot"' in await asyncio.wait_for(ws.recv(), 10)
        for missing_or_private, code in ((999_999, 4404), (world.ids["private"], 4401)):
            async with websockets.connect(f"ws://{host}/ws/events/{missing_or_private}") as ws:
                with pytest.raises(websockets.ConnectionClosed):
                    await asyncio.wait_for(ws.recv(), 10)
                assert ws.close_code == code
        await set_visibility(world, event, "private")
        world.platform.watch_scopes = WatchScopes()  # as after its ttl
        async with websockets.connect(f"ws://{host}/ws/events/{event}") as ws:
            with pytest.raises(websockets.ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 10)
            assert ws.close_code == 4401


async def test_a_viewer_gone_while_asking_does_not_fail_the_others(world: World) -> None:
    """The read is shared, not owned by the first viewer to ask: that one's socket closing
    (its task cancelled) leaves the read running for everyone else."""
    scopes = WatchScopes()
    release = asyncio.Event()

    @asynccontextmanager
    async def slow() -> AsyncIterator[AsyncSession]:
        await release.wait()
        async with world.platform.db_factory() as db:
            yield db

    first = asyncio.create_task(scopes.get(slow, world.ids["public"]))
    await asyncio.sleep(0.01)
    other = asyncio.create_task(scopes.get(slow, world.ids["public"]))
    await asyncio.sleep(0.01)
    first.cancel()
    release.set()
    found = await asyncio.wait_for(other, 10)
    assert found is not None and found.visibility == "public"
    assert first.cancelled()
