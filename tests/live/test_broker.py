"""Brokers for real: in memory, and Redis pub/sub on the machine's Redis (two nodes)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from trackside.live.broker import (
    Broker,
    BrokerClosed,
    MemoryBroker,
    RedisBroker,
    SubscriberLagged,
)

WAIT_S = 5.0  # a bound for awaiting deliveries, never a timing assertion


@pytest.fixture(params=["memory", "redis"])
async def broker(request: pytest.FixtureRequest) -> AsyncIterator[Broker]:
    if request.param == "memory":
        made: Broker = MemoryBroker(queue_size=8)
    else:
        made = RedisBroker.from_url(request.getfixturevalue("redis_url"), queue_size=8)
    yield made
    await made.close()


def _topic() -> str:
    return f"test:{uuid.uuid4().hex}"


async def _next(subscription: AsyncIterator[bytes]) -> bytes:
    return await asyncio.wait_for(anext(subscription), WAIT_S)


async def test_every_subscriber_gets_every_message_in_order(broker: Broker) -> None:
    topic = _topic()
    async with broker.subscribe(topic) as first, broker.subscribe(topic) as second:
        assert broker.subscriber_count(topic) == 2
        for n in range(3):
            await broker.publish(topic, b"patch %d" % n)
        for subscription in (first, second):
            assert [await _next(subscription) for _ in range(3)] == [
                b"patch 0",
                b"patch 1",
                b"patch 2",
            ]
    assert broker.subscriber_count(topic) == 0


async def test_local_subscribers_share_one_bytes_object() -> None:
    broker = MemoryBroker()
    topic = _topic()
    data = b'{"type":"patch","version":1,"ops":[]}'
    async with broker.subscribe(topic) as first, broker.subscribe(topic) as second:
        await broker.publish(topic, data)
        assert await _next(first) is data and await _next(second) is data
    await broker.close()


async def test_topics_are_separate(broker: Broker) -> None:
    one, other = _topic(), _topic()
    async with broker.subscribe(one) as subscription:
        await broker.publish(other, b"not for you")
        await broker.publish(one, b"for you")
        assert await _next(subscription) == b"for you"
        assert subscription.get_nowait() is None


async def test_a_subscriber_that_falls_behind_is_told_to_resync(broker: Broker) -> None:
    topic = _topic()
    async with broker.subscribe(topic) as slow, broker.subscribe(topic) as fast:
        for n in range(12):  # more than the queue holds
            await broker.publish(topic, b"%d" % n)
            assert await _next(fast) == b"%d" % n  # the others are not held up
        with pytest.raises(SubscriberLagged):
            await _next(slow)
        with pytest.raises(SubscriberLagged):
            await _next(slow)  # and it stays that way: it must subscribe again


async def test_leaving_stops_delivery_and_close_ends_iteration(broker: Broker) -> None:
    topic = _topic()
    async with broker.subscribe(topic) as kept:
        async with broker.subscribe(topic) as left:
            pass
        await broker.publish(topic, b"after")
        assert await _next(kept) == b"after"
        assert left.get_nowait() is None
        await broker.close()
        with pytest.raises(StopAsyncIteration):
            await _next(kept)
    with pytest.raises(BrokerClosed):
        await broker.publish(topic, b"late")
    with pytest.raises(BrokerClosed):
        async with broker.subscribe(topic):
            pass


async def test_redis_carries_messages_between_nodes(redis_url: str) -> None:
    node_a, node_b = RedisBroker.from_url(redis_url), RedisBroker.from_url(redis_url)
    topic = _topic()
    try:
        async with node_b.subscribe(topic) as on_b, node_a.subscribe(topic) as on_a:
            await node_a.publish(topic, b"from a")
            await node_b.publish(topic, b"from b")
            assert [await _next(on_b), await _next(on_b)] == [b"from a", b"from b"]
            assert [await _next(on_a), await _next(on_a)] == [b"from a", b"from b"]
        # Once nobody on a node listens, it no longer takes the topic from Redis.
        for _ in range(100):  # Redis takes the UNSUBSCRIBE on another connection
            channels = await node_a.client.pubsub_channels(topic)
            if not channels:
                break
            await asyncio.sleep(0.02)
        assert channels == []
    finally:
        await node_a.close()
        await node_b.close()


async def test_redis_subscribers_joining_together_miss_nothing(redis_url: str) -> None:
    broker = RedisBroker.from_url(redis_url)
    topic = _topic()
    try:
        async with broker.subscribe(topic) as first:
            async with broker.subscribe(topic) as second:
                await broker.publish(topic, b"x")
                assert await _next(first) == await _next(second) == b"x"
            async with broker.subscribe(topic) as third:  # the topic stays subscribed
                await broker.publish(topic, b"y")
                assert await _next(third) == b"y"
    finally:
        await broker.close()
