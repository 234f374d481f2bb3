"""The relay batch endpoint under mutated real lines and frames: every batch is stored whole
(never a 5xx), and every line the parsers refuse shows as a bad record in the diagnostics —
nothing bad is dropped silently, nothing good is counted bad."""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.api.world import World
from tests.fuzz import mutations
from trackside.feeds import p3, rmonitor
from trackside.feeds.p3_records import P3Error
from trackside.feeds.records import FeedError

FIXTURE = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
BATCH = 250


def expected_bad(records: list[dict[str, object]]) -> int:
    """Bad records as the parsers see each line or frame on its own."""
    bad = 0
    for record in records:
        if record["type"] == "p3":
            bad += isinstance(p3.decode_hex_frame(str(record["data"])), P3Error)
        else:
            lines = rmonitor.parse_lines([str(record["data"])])
            bad += sum(type(parsed) is FeedError for parsed in lines)
    return bad


def mutated_records(rng: random.Random) -> list[dict[str, object]]:
    records = []
    for _ in range(BATCH):
        kind = "p3" if rng.random() < 0.3 else "rmonitor"
        data = mutations.p3_frame(rng).hex() if kind == "p3" else mutations.rmonitor_line(rng)
        records.append({"type": kind, "data": data})
    return records


async def post_and_check(world: World, rng: random.Random, seq: Iterator[int]) -> None:
    mutated = mutated_records(rng)
    refused = any("\x00" in str(record["data"]) for record in mutated)
    # A refused batch stores nothing, so it takes no sequence numbers: a gap would hold back
    # scoring of every later batch until it filled.
    records = [
        {"seq": i + 1 if refused else next(seq), "received_at": 1745000000000 + i, **record}
        for i, record in enumerate(mutated)
    ]
    event = world.ids["public"]
    auth = world.auth("client_relay")
    before = (await world.client.get(f"/events/{event}/diagnostics", headers=auth)).json()
    response = await world.client.post(
        f"/relay/events/{event}/records",
        json={"source": "fuzz", "records": records},
        headers=auth,
    )
    nul = [i for i, record in enumerate(records) if "\x00" in str(record["data"])]
    if nul:  # refused whole, naming the record: the store cannot keep a NUL
        assert response.status_code == 422, response.text
        assert f"records.{nul[0]}.data" in {e["field"] for e in response.json()["errors"]}
        records = []
    else:
        assert response.status_code == 200, response.text
        assert response.json()["stored"] == len(records)
    # The processor applies what arrived on its own task: wait until it has read the batch.
    for _ in range(400):
        after = (await world.client.get(f"/events/{event}/diagnostics", headers=auth)).json()
        if after["records"] - before["records"] >= len(records):
            break
        await asyncio.sleep(0.025)
    assert after["records"] - before["records"] == len(records)
    assert after["badRecords"] - before["badRecords"] == expected_bad(records)


@settings(max_examples=4, deadline=None, suppress_health_check=FIXTURE, phases=[Phase.generate])
@given(rng=st.randoms(use_true_random=False))
async def test_relay_batches_of_mutated_lines(world: World, rng: random.Random) -> None:
    # The world outlives the examples (a function-scoped fixture): seqs keep counting up.
    # Generation only: a failing batch is printed whole, and shrinking one is slow.
    seq = SEQS.setdefault(id(world), itertools.count(1))
    await post_and_check(world, rng, seq)


SEQS: dict[int, Iterator[int]] = {}


@pytest.mark.long
async def test_relay_fifty_thousand_mutated_lines(world: World) -> None:
    seq = itertools.count(1)
    for seed in range(200):
        await post_and_check(world, random.Random(seed), seq)
