"""Fan-out of serialized live messages: publish bytes to a topic, subscribers iterate them.

``MemoryBroker`` serves one process (the default); ``RedisBroker`` uses Redis pub/sub so that
every node of a cluster gets what any node publishes (``TRACKSIDE_REDIS_URL``). Both hand the
same ``bytes`` object to every local subscriber: a message is serialized once, upstream.

Each subscriber has a bounded queue. One that falls that far behind is not allowed to hold the
others up or to grow without bound: its queue is dropped and its next read raises
``SubscriberLagged``, so the server sends it a fresh snapshot, as for any gap in versions::

    async with broker.subscribe("event:42") as subscription:
        async for data in subscription:
            await websocket.send_bytes(data)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from redis.asyncio import Redis

log = logging.getLogger(__name__)

DEFAULT_QUEUE_SIZE = 1024
SUBSCRIBE_TIMEOUT_S = 5.0
_RECONNECT_DELAYS_S = (0.1, 0.25, 0.5, 1.0, 2.0)
LATEST_PREFIX = "latest:"
LATEST_TTL_S = 24 * 3600


class BrokerClosed(RuntimeError):
    """The broker was closed: nothing more can be published or subscribed to."""


class SubscriberLagged(Exception):
    """The subscriber fell a whole queue behind (or the broker lost its link): resync."""


class _End:
    """Queue markers: the subscriber lagged, or the subscription was closed."""

    __slots__ = ("lagged",)

    def __init__(self, lagged: bool) -> None:
        self.lagged = lagged


_LAGGED = _End(lagged=True)
_CLOSED = _End(lagged=False)


Watch = Callable[[bytes | None], object]


class Subscription:
    """One subscriber's stream of one topic: an async iterator of ``bytes``.

    With ``watch``, messages are handed to that function instead, at once and in order, before
    any queued subscriber of the topic reads them (``None`` when messages may have been lost):
    a follower node's mirror of the leader's state is up to date when its viewers are sent.
    """

    __slots__ = ("_closed", "_queue", "_watch", "topic")

    def __init__(self, topic: str, queue_size: int, watch: Watch | None = None) -> None:
        self.topic = topic
        self._queue: asyncio.Queue[bytes | _End] = asyncio.Queue(queue_size + 1)
        self._closed = False
        self._watch = watch

    def _deliver(self, data: bytes) -> None:
        if self._closed:
            return
        if self._watch is not None:
            self._watch(data)
            return
        queue = self._queue
        if queue.qsize() >= queue.maxsize - 1:
            self._end(_LAGGED)
            return
        queue.put_nowait(data)

    def _end(self, marker: _End) -> None:
        """Replace whatever is queued by the end marker (the one slot kept free for it)."""
        if self._closed:
            return
        queue = self._queue
        while not queue.empty():
            queue.get_nowait()
        queue.put_nowait(marker)
        self._closed = True
        if self._watch is not None and marker.lagged:
            self._watch(None)

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> bytes:
        item = await self._queue.get()
        if isinstance(item, _End):
            self._queue.put_nowait(item)  # every later read ends the same way
            if item.lagged:
                raise SubscriberLagged(self.topic)
            raise StopAsyncIteration
        return item

    def get_nowait(self) -> bytes | None:
        """The next message if one is waiting (None if not); raises like iteration does."""
        try:
            item = self._queue.get_nowait()
        except asyncio.QueueEmpty:
            return None
        if isinstance(item, _End):
            self._queue.put_nowait(item)
            if item.lagged:
                raise SubscriberLagged(self.topic)
            return None
        return item


class Broker(ABC):
    """Topics of bytes with local fan-out; subclasses decide where a publish travels."""

    def __init__(self, queue_size: int = DEFAULT_QUEUE_SIZE) -> None:
        self.queue_size = queue_size
        self._topics: dict[str, set[Subscription]] = {}
        self._watchers: dict[str, set[Subscription]] = {}  # those of _topics with a watch
        self._joined: dict[str, asyncio.Future[None]] = {}
        self._closed = False

    def _check_open(self) -> None:
        if self._closed:
            raise BrokerClosed("the broker is closed")

    @abstractmethod
    async def publish(
        self, topic: str, data: bytes, latest: Callable[[], bytes] | None = None
    ) -> None:
        """Send ``data`` to every subscriber of ``topic`` (on every node). ``latest`` makes
        the message a node that starts following the topic reads first (``latest``), kept
        with the publish as one step; only a broker shared by nodes asks for it."""

    async def latest(self, topic: str) -> bytes | None:
        """The ``latest`` message kept with the topic's last publish (None if none)."""
        return None

    def deliver_local(self, topic: str, data: bytes) -> None:
        """Hand ``data`` to this node's subscribers of ``topic`` only."""
        self._fan_out(topic, data)

    @abstractmethod
    async def _first_subscriber(self, topic: str) -> None:
        """A topic gains its first local subscriber: start receiving it."""

    @abstractmethod
    async def _last_unsubscribed(self, topic: str) -> None:
        """A topic lost its last local subscriber: stop receiving it."""

    @contextlib.asynccontextmanager
    async def subscribe(
        self, topic: str, watch: Watch | None = None
    ) -> AsyncIterator[Subscription]:
        """Subscribe for the block; messages published once this has entered are delivered
        (to ``watch`` if given, see ``Subscription``)."""
        self._check_open()
        subscription = Subscription(topic, self.queue_size, watch)
        subscribers = self._topics.get(topic)
        if subscribers is None:
            subscribers = self._topics[topic] = set()
            # Everyone joining while the first subscription is set up waits for it too.
            self._joined[topic] = asyncio.ensure_future(self._first_subscriber(topic))
        joined = self._joined[topic]
        subscribers.add(subscription)
        if watch is not None:
            self._watchers.setdefault(topic, set()).add(subscription)
        try:
            await asyncio.shield(joined)
            yield subscription
        finally:
            subscription._end(_CLOSED)
            subscribers.discard(subscription)
            watchers = self._watchers.get(topic)
            if watchers is not None:
                watchers.discard(subscription)
                if not watchers:
                    del self._watchers[topic]
            if not subscribers and self._topics.get(topic) is subscribers:
                del self._topics[topic]
                del self._joined[topic]
                if not self._closed:
                    await self._last_unsubscribed(topic)

    def subscriber_count(self, topic: str) -> int:
        return len(self._topics.get(topic, ()))

    def _fan_out(self, topic: str, data: bytes) -> None:
        subscribers = self._topics.get(topic)
        if not subscribers:
            return
        # Watchers first: what they keep is current when queued subscribers read.
        for subscription in tuple(self._watchers.get(topic, ())):
            subscription._deliver(data)
        for subscription in tuple(subscribers):
            if subscription._watch is None:
                subscription._deliver(data)

    def _lag_all(self) -> None:
        for subscribers in self._topics.values():
            for subscription in subscribers:
                subscription._end(_LAGGED)

    async def close(self) -> None:
        """End every subscription (their iteration stops) and release resources."""
        self._closed = True
        for subscribers in self._topics.values():
            for subscription in subscribers:
                subscription._end(_CLOSED)


async def follow(
    broker: Broker,
    topic: str,
    ready: asyncio.Future[None],
    subscribed: Callable[[bool], Awaitable[None]],
    consume: Callable[[Subscription], Awaitable[None]],
) -> None:
    """Keep a subscription to ``topic`` for ``consume`` until the broker closes, subscribing
    again whenever it lagged. ``subscribed(again)`` runs on each subscription (``again``: after
    a lag); ``ready`` is resolved after the first, or gets the exception that prevented it.
    Once ready, a broker that fails is retried until it answers; cancelling ends it."""
    failures = 0
    while True:
        try:
            async with broker.subscribe(topic) as subscription:
                failures = 0
                await subscribed(ready.done())
                if not ready.done():
                    ready.set_result(None)
                await consume(subscription)
            return  # the broker closed: the server is stopping
        except SubscriberLagged:
            continue
        except BrokerClosed:
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if not ready.done():
                ready.set_exception(exc)
                return
            # The broker is unreachable (Redis restarting): keep trying; the subscribers
            # start over with a snapshot once it answers.
            if failures == 0:
                log.warning("broker: following %s failed (%s); retrying", topic, exc)
            await asyncio.sleep(_RECONNECT_DELAYS_S[min(failures, len(_RECONNECT_DELAYS_S) - 1)])
            failures += 1


class MemoryBroker(Broker):
    """In-process fan-out: a publish reaches the subscribers before it returns."""

    async def publish(
        self, topic: str, data: bytes, latest: Callable[[], bytes] | None = None
    ) -> None:
        self._check_open()
        self._fan_out(topic, data)

    async def _first_subscriber(self, topic: str) -> None:
        return None  # every publish in this process already reaches the local fan-out

    async def _last_unsubscribed(self, topic: str) -> None:
        return None


class RedisBroker(Broker):
    """Fan-out across nodes through Redis pub/sub.

    One pub/sub connection per broker carries every topic this node has subscribers for; a
    reader task hands each message to the local subscribers. Subscribing waits for Redis to
    confirm, so a publish made after ``subscribe`` has entered is never missed. If the link
    drops, local subscribers are told they lagged (they may have missed messages) while redis-py
    reconnects and subscribes again.
    """

    def __init__(self, client: Redis, queue_size: int = DEFAULT_QUEUE_SIZE) -> None:
        super().__init__(queue_size)
        self.client = client
        self._pubsub = client.pubsub()
        self._reader: asyncio.Task[None] | None = None
        self._confirm: dict[str, asyncio.Future[None]] = {}
        self._lock = asyncio.Lock()
        self._released = False

    @classmethod
    def from_url(cls, url: str, queue_size: int = DEFAULT_QUEUE_SIZE) -> RedisBroker:
        return cls(Redis.from_url(url), queue_size)

    async def publish(
        self, topic: str, data: bytes, latest: Callable[[], bytes] | None = None
    ) -> None:
        self._check_open()
        if latest is None:
            await self.client.publish(topic, data)
            return
        # One transaction: a node that subscribes, then reads the latest, misses nothing.
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.set(LATEST_PREFIX + topic, latest(), ex=LATEST_TTL_S)
            pipe.publish(topic, data)
            await pipe.execute()

    async def latest(self, topic: str) -> bytes | None:
        value = await self.client.get(LATEST_PREFIX + topic)
        return None if value is None else bytes(value)

    async def _first_subscriber(self, topic: str) -> None:
        async with self._lock:
            confirmed = asyncio.get_running_loop().create_future()
            self._confirm[topic] = confirmed
            try:
                await self._pubsub.subscribe(topic)
                if self._reader is None or self._reader.done():
                    self._reader = asyncio.create_task(self._read(), name="redis-broker-reader")
                await asyncio.wait_for(asyncio.shield(confirmed), SUBSCRIBE_TIMEOUT_S)
            finally:
                self._confirm.pop(topic, None)

    async def _last_unsubscribed(self, topic: str) -> None:
        async with self._lock:
            if topic not in self._topics:
                await self._pubsub.unsubscribe(topic)

    async def _read(self) -> None:
        failures = 0
        while True:
            try:
                message = await self._pubsub.get_message(timeout=None)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the link dropped: redis-py reconnects on the next read
                log.warning("redis broker: pub/sub read failed: %s", exc)
                self._lag_all()
                await asyncio.sleep(_RECONNECT_DELAYS_S[min(failures, 4)])
                failures += 1
                continue
            failures = 0
            if message is not None:
                self._handle(message)

    def _handle(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        channel = message.get("channel")
        topic = channel.decode() if isinstance(channel, bytes) else str(channel)
        if kind == "message":
            self._fan_out(topic, message["data"])
        elif kind == "subscribe":
            confirmed = self._confirm.get(topic)
            if confirmed is not None and not confirmed.done():
                confirmed.set_result(None)

    async def close(self) -> None:
        await super().close()
        if self._released:
            return
        self._released = True
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None
        await self._pubsub.aclose()
        await self.client.aclose()
