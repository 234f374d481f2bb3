"""Contract tests of the relay's HTTP client: how it reacts to each reply the ingest contract
allows, against the minimal double in ``contract_server.py`` (not trackside's server).

Waits are recorded by an injected ``sleep`` instead of being timed, so the tests check which
delay the relay chose without depending on the clock.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.relay.conftest import SECRET
from tests.relay.contract_server import ContractServer
from tests.relay.helpers import capture_lines, open_queue, texts, wait_until
from trackside.relay.auth import TokenClient
from trackside.relay.backoff import Backoff
from trackside.relay.queue import AsyncRelayQueue
from trackside.relay.uploader import Uploader

LINES = texts(capture_lines("road-america-2025-04-26-race-start.log"))[:2500]
SOURCE = "rmonitor"
RECEIVED = 1_745_680_000_000


@dataclass
class Run:
    uploader: Uploader
    queue: AsyncRelayQueue
    tokens: TokenClient
    delays: list[float]


@asynccontextmanager
async def uploading(
    tmp_path: Path,
    server: ContractServer,
    lines: list[str],
    event: str = "7",
    secret: str = SECRET,
) -> AsyncIterator[Run]:
    """An uploader of a queue holding ``lines``, running until the block ends."""
    queue = open_queue(tmp_path / "queue.sqlite")
    await queue.register(SOURCE, "rmonitor")
    if lines:
        await queue.append(SOURCE, RECEIVED, lines)
    delays: list[float] = []

    async def sleep(delay: float) -> None:
        delays.append(delay)
        await asyncio.sleep(0.005)

    async with httpx.AsyncClient(timeout=5.0) as http:
        tokens = TokenClient(http, server.url, "stand-1", secret)
        uploader = Uploader(
            http, tokens, queue, server.url, event, SOURCE, "rmonitor",
            backoff=Backoff(base=1.0, cap=8.0, rng=random.Random(5)),
            slow_retry=60.0, idle_wait=0.05, sleep=sleep,
        )  # fmt: skip
        task = asyncio.create_task(uploader.run())
        try:
            yield Run(uploader, queue, tokens, delays)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await queue.close()


def stored(server: ContractServer, event: str = "7") -> list[str]:
    return [str(r["data"]) for r in server.records(event, SOURCE)]


def post_sizes(server: ContractServer) -> list[tuple[int, int]]:
    return [(r.status, len(r.seqs)) for r in server.requests("records")]


async def test_uploads_in_order_in_batches_of_at_most_1000(
    tmp_path: Path, server: ContractServer
) -> None:
    async with uploading(tmp_path, server, LINES) as run:
        await wait_until(lambda: len(stored(server)) == len(LINES))
        await wait_until(lambda: run.uploader.status.state == "caught up")
        await run.queue.append(SOURCE, RECEIVED + 5, ["$F,1", "$F,2"])  # arrives later
        await wait_until(lambda: len(stored(server)) == len(LINES) + 2)
        # Stored on the server is not yet heard by the uploader: wait for its ack too.
        await wait_until(lambda: run.uploader.status.acked == len(LINES) + 2)
        assert (await run.queue.state(SOURCE)).acked_seq == len(LINES) + 2
    assert stored(server) == [*LINES, "$F,1", "$F,2"]
    assert post_sizes(server) == [(200, 1000), (200, 1000), (200, 500), (200, 2)]
    first = server.records("7", SOURCE)[0]
    assert first == {"seq": 1, "received_at": RECEIVED, "type": "rmonitor", "data": LINES[0]}
    assert [r.kind for r in server.requests()][:3] == ["token", "ack", "records"]
    assert run.delays == []


async def test_resumes_after_what_the_server_acknowledges(
    tmp_path: Path, server: ContractServer
) -> None:
    # A previous run got 1..1200 stored but was killed before it heard the reply.
    server.state.stored[("7", SOURCE)] = {
        seq: {"seq": seq, "received_at": RECEIVED, "type": "rmonitor", "data": LINES[seq - 1]}
        for seq in range(1, 1201)
    }
    async with uploading(tmp_path, server, LINES):
        await wait_until(lambda: len(stored(server)) == len(LINES))
    posts = server.requests("records")
    assert posts[0].seqs[0] == 1201  # nothing the server holds is sent again
    assert sum(len(p.seqs) for p in posts) == len(LINES) - 1200
    assert stored(server) == LINES


async def test_a_401_gets_a_new_token_and_the_batch_goes_through(
    tmp_path: Path, server: ContractServer
) -> None:
    async with uploading(tmp_path, server, LINES[:100]) as run:
        await wait_until(lambda: len(stored(server)) == 100)
        server.revoke_tokens()  # e.g. the server restarted with new keys
        await run.queue.append(SOURCE, RECEIVED, LINES[100:200])
        await wait_until(lambda: len(stored(server)) == 200)
    assert post_sizes(server) == [(200, 100), (401, 0), (200, 100)]
    assert len(server.requests("token")) == 2
    assert run.tokens.fetched == 2 and run.delays == []  # renewed at once, no backoff


async def test_the_token_is_renewed_at_80_percent_of_its_lifetime(server: ContractServer) -> None:
    server.state.expires_in = 100
    now = [0.0]
    async with httpx.AsyncClient() as http:
        tokens = TokenClient(http, server.url, "stand-1", SECRET, clock=lambda: now[0])
        first = await tokens.get()
        now[0] = 79.0
        assert await tokens.get() == first
        now[0] = 81.0
        second = await tokens.get()
        assert second != first
        tokens.invalidate(first)  # a 401 for the old token does not drop the new one
        assert await tokens.get() == second
        tokens.invalidate(second)
        assert await tokens.get() not in (first, second)
    assert len(server.requests("token")) == 3


async def test_429_waits_as_long_as_the_server_says(tmp_path: Path, server: ContractServer) -> None:
    server.fail_next("records", 429, headers={"Retry-After": "7"})
    async with uploading(tmp_path, server, LINES[:10]) as run:
        await wait_until(lambda: len(stored(server)) == 10)
    assert run.delays == [7.0]
    assert post_sizes(server) == [(429, 0), (200, 10)]


async def test_5xx_is_an_outage_retried_with_growing_backoff_then_resumed(
    tmp_path: Path, server: ContractServer
) -> None:
    server.fail_next("records", 503, times=4)
    async with uploading(tmp_path, server, LINES[:10]) as run:
        await wait_until(lambda: len(stored(server)) == 10)
        assert run.uploader.status.state in ("sending", "caught up")
    assert len(run.delays) == 4
    for delay, ceiling in zip(run.delays, [1, 2, 4, 8], strict=True):
        assert ceiling / 2 <= delay <= ceiling
    # After every outage it asks the server what it holds before sending again.
    kinds = [r.kind for r in server.requests() if r.kind != "token"]
    assert kinds == ["ack", "records"] * 5
    assert stored(server) == LINES[:10]


async def test_a_server_that_is_down_keeps_the_relay_queueing(
    tmp_path: Path, server: ContractServer
) -> None:
    server.stop()
    async with uploading(tmp_path, server, LINES[:500]) as run:
        await wait_until(lambda: len(run.delays) >= 3)
        assert run.uploader.status.state == "outage"
        assert "cannot connect" in str(run.uploader.status.error)
        await run.queue.append(SOURCE, RECEIVED, LINES[500:])  # the feed goes on meanwhile
        server.start()
        await wait_until(lambda: len(stored(server)) == len(LINES))
    assert stored(server) == LINES
    ceilings = [min(8, 2**i) for i in range(len(run.delays))]
    assert all(c / 2 <= d <= c for d, c in zip(run.delays, ceilings, strict=True))


@pytest.mark.parametrize(
    ("event", "message"),
    [("8", "not allowed to send to this event"), ("9", "no such event")],
)
async def test_a_refusal_is_reported_loudly_and_retried_slowly(
    tmp_path: Path, server: ContractServer, caplog: pytest.LogCaptureFixture, event: str,
    message: str,
) -> None:  # fmt: skip
    server.add_client("another-stand", "x", ["8"])  # event 8 exists, stand-1 may not send to it
    async with uploading(tmp_path, server, LINES[:10], event=event) as run:
        await wait_until(lambda: run.uploader.status.state == "refused")
        assert message in str(run.uploader.status.error)
        assert any(r.levelname == "ERROR" and message in r.getMessage() for r in caplog.records)
        await run.queue.append(SOURCE, RECEIVED, LINES[10:20])  # still queueing
        server.add_client("stand-1", SECRET, [event])  # someone fixes it on the server
        await wait_until(lambda: len(stored(server, event)) == 20)
    assert set(run.delays) == {60.0}
    assert stored(server, event) == LINES[:20]


async def test_bad_credentials_are_refused_without_showing_the_secret(
    tmp_path: Path, server: ContractServer, caplog: pytest.LogCaptureFixture
) -> None:
    async with uploading(tmp_path, server, LINES[:10], secret="wrong-secret-123") as run:
        await wait_until(lambda: run.uploader.status.state == "refused")
        assert "client credentials refused" in str(run.uploader.status.error)
    assert "wrong-secret-123" not in caplog.text
    assert "wrong-secret-123" not in repr(run.tokens)
    assert server.requests("records") == []


async def test_a_batch_the_server_finds_too_large_is_halved(
    tmp_path: Path, server: ContractServer
) -> None:
    server.state.max_records = 300
    async with uploading(tmp_path, server, LINES[:1000]):
        await wait_until(lambda: len(stored(server)) == 1000)
    sizes = post_sizes(server)
    assert sizes[:3] == [(413, 0), (413, 0), (200, 250)]
    assert stored(server) == LINES[:1000]


async def test_a_server_ahead_of_the_queue_gets_the_records_after_its_own(
    tmp_path: Path, server: ContractServer
) -> None:
    # The relay's queue file was lost: the server already holds 1..50 of this source.
    server.state.stored[("7", SOURCE)] = {
        seq: {"seq": seq, "received_at": 1, "type": "rmonitor", "data": f"old {seq}"}
        for seq in range(1, 51)
    }
    async with uploading(tmp_path, server, LINES[:10]) as run:
        await wait_until(lambda: len(stored(server)) == 60)
        assert run.uploader.status.renumbered == 10
    assert stored(server)[50:] == LINES[:10]  # not dropped as "duplicates" of 1..10
