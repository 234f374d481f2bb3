"""The SignalR status hub's bookkeeping: negotiated connections, who follows which event, and
one compact payload stream per event.

Each followed event has one ``EventFeed``: it listens to the event's processor updates on the
broker, turns each into the next compact payload (``live/compact.py``: full or incremental),
frames it as ``ReceiveMessage(status)`` once, and hands the same string to every follower.
Payloads carry the epoch of the processor run they come from (``ep``); the first payload of
another run, and the one after the processor stopped, are full ones. A
timer makes sure a full payload goes out at least every ``full_every_ms`` while the event's
processor runs, even when nothing changes. A follower that joins gets a full payload of the
state the feed last sent, so the incremental payloads that follow apply to what it has.

Sockets and the wire protocol belong to ``events/routes/signalr.py``; time here is the server's
monotonic clock.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from trackside.accounts import principals
from trackside.accounts.keys import KeyPair, KeyRing
from trackside.accounts.roles import Principal
from trackside.accounts.tokens import InvalidToken
from trackside.errors import Conflict, NotFound, Unauthenticated
from trackside.events import service as events
from trackside.events.models import Event
from trackside.events.processors import EventProcessor
from trackside.live import connection_tokens, signalr
from trackside.live.broker import follow
from trackside.live.compact import (
    FULL_EVERY_MS,
    CompactStream,
    EventInfo,
    Status,
    encode_full,
    full_payload,
    live_session_of,
)
from trackside.live.envelope import unframe
from trackside.platform import Platform

log = logging.getLogger(__name__)

NEGOTIATED_TTL_MS = 60_000  # a client opens its socket right after negotiating
OUTBOX_LIMIT = 128  # payloads queued for one socket before it is sent fresh full ones instead


def monotonic_ms() -> int:
    return time.monotonic_ns() // 1_000_000


def wall_ms() -> int:
    """Unix time: connection tokens expire at a time every node reads alike."""
    return time.time_ns() // 1_000_000


def race_day(start: datetime, end: datetime, today: date) -> date:
    """The date flag times of day fall on: today, kept within the event's dates."""
    return min(max(today, start.date()), end.date())


def event_info(event: Event, today: date | None = None) -> EventInfo:
    today = today or datetime.now(UTC).date()
    return EventInfo(event.id, event.name, race_day(event.start_date, event.end_date, today))


# --- negotiated connections ---------------------------------------------------------------------


class Negotiations:
    """Negotiate answers, and the sockets that use them, with nothing shared between nodes.

    A negotiate answer carries a signed, expiring token (``live/connection_tokens.py``) that any
    node holding the database's signing keys accepts, so a load balancer may send negotiate and
    the socket to different nodes. Negotiating stores nothing. A node refuses a second socket on
    an id while the first is open (Conflict) and an id it has served before (NotFound) until the
    token expires; an id that is forged, expired or signed by a key it cannot find is NotFound.
    Another node does not know which ids this one served: the id is no credential (a socket
    proves who it is with its own bearer token), so that costs nothing a client that skips
    negotiation could not do anyway.
    """

    def __init__(
        self,
        keys: KeyRing,
        ttl_ms: int = NEGOTIATED_TTL_MS,
        clock: Callable[[], int] = wall_ms,
    ) -> None:
        self.ttl_ms = ttl_ms
        self._keys = keys
        self._clock = clock
        self._secrets: dict[str, bytes] = {}  # kid -> HMAC secret derived from that key
        self._served: dict[str, int] = {}  # socket ids this node took -> expiry (ms), in order
        self._open: set[str] = set()

    def negotiate(self, version: int) -> bytes:
        """The negotiate answer for ``version``: its socket id is a token any node accepts."""
        key = self._keys.signing
        token = connection_tokens.mint(
            key.kid, self._secret(key), self._clock() / 1000, -(-self.ttl_ms // 1000)
        )
        # v1 sockets carry the token and the public id is its nonce; v0 ones carry the id.
        public_id = token.nonce if version >= 1 else token.text
        return signalr.negotiate_response(version, signalr.Connection(public_id, token.text))

    async def claim(self, socket_id: str) -> None:
        """Take ``socket_id`` for a socket on this node; NotFound or Conflict if it may not."""
        now = self._clock()
        self._forget(now)
        if socket_id in self._open:
            raise Conflict("this connection already has a socket")
        if socket_id not in self._served:
            token = connection_tokens.parse(socket_id)
            key = None if token is None else await self._keys.find(token.kid)
            if token is not None and key is not None and token.valid(self._secret(key), now / 1000):
                self._served[socket_id] = token.expires_s * 1000
                self._open.add(socket_id)
                return
        raise NotFound("no such connection: negotiate again")

    def release(self, socket_id: str) -> None:
        self._open.discard(socket_id)

    def _secret(self, key: KeyPair) -> bytes:
        secret = self._secrets.get(key.kid)
        if secret is None:
            secret = self._secrets[key.kid] = key.derive(connection_tokens.PURPOSE)
        return secret

    def _forget(self, now: int) -> None:
        """Drop served ids whose tokens expired: no node accepts them any more."""
        served = self._served
        while served:
            socket_id, expires = next(iter(served.items()))
            if expires > now:
                return
            del served[socket_id]


# --- one connection's outgoing side -------------------------------------------------------------

_CONTROL, _PAYLOAD, _CLOSE = 0, 1, 2


class Follower:
    """One hub connection's messages waiting for its socket, and the events it follows.

    Payloads are strings shared with every other follower. One that falls ``limit`` payloads
    behind has them replaced by a fresh full payload of each event it follows, rather than a
    queue that grows without bound. Closing drops what is still queued.
    """

    def __init__(self, limit: int = OUTBOX_LIMIT) -> None:
        self.feeds: dict[int, EventFeed] = {}
        self._limit = limit
        self._queue: deque[tuple[int, str | None]] = deque()
        self._payloads = 0
        self._wake = asyncio.Event()
        self.closing = False

    def send(self, text: str) -> None:
        """A message of this connection only (a completion, a ping)."""
        self._put(_CONTROL, text)

    def deliver(self, text: str) -> None:
        """A payload of a followed event."""
        if self._payloads >= self._limit:
            self._catch_up()
            return
        self._payloads += 1
        self._put(_PAYLOAD, text)

    def _catch_up(self) -> None:
        self._queue = deque(item for item in self._queue if item[0] != _PAYLOAD)
        self._payloads = 0
        for feed in self.feeds.values():
            self._payloads += 1
            self._queue.append((_PAYLOAD, feed.full_message()))

    def close(self, text: str | None) -> None:
        """End with ``text`` (a Close message; None: the client is gone). Nothing queued before
        it is sent any more, nor anything given after it."""
        if self.closing:
            return
        self._queue.clear()
        self._payloads = 0
        self._put(_CLOSE, text)
        self.closing = True

    def _put(self, kind: int, text: str | None) -> None:
        if self.closing:
            return
        self._queue.append((kind, text))
        self._wake.set()

    async def next(self, timeout_s: float) -> tuple[str | None, bool] | None:
        """The next message and whether it is the last (a Close); None if none came in time."""
        if not self._queue:
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout_s)
            except TimeoutError:
                return None
        kind, text = self._queue.popleft()
        if kind == _PAYLOAD:
            self._payloads -= 1
        return text, kind == _CLOSE

    @property
    def queued(self) -> int:
        return len(self._queue)


# --- one event's payload stream -----------------------------------------------------------------


class EventFeed:
    """The compact payloads of one event, made once per update for all its followers."""

    def __init__(self, hub: Hub, event: EventInfo) -> None:
        self.hub = hub
        self.event_id = event.event_id
        self.stream = CompactStream(event, full_every_ms=hub.full_every_ms)
        self.followers: set[Follower] = set()
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.task: asyncio.Task[None] | None = None
        self._snapshot: dict[str, Any] = {}
        self._processor: EventProcessor | None = None  # the run the payloads come from
        self._full: str | None = None
        self._last_full_ms = 0

    def start(self) -> None:
        self.task = asyncio.create_task(self._run(), name=f"hub-feed-{self.event_id}")

    def full_message(self) -> str:
        """``ReceiveMessage`` with a full payload of the state last sent (built once a state)."""
        if self._full is None:
            _, session = live_session_of(self._snapshot)
            payload = full_payload(session, self.stream.event)
            self._full = signalr.receive_message(encode_full(payload))
        return self._full

    def join(self, follower: Follower) -> None:
        """A full payload now, then every payload this feed sends."""
        follower.feeds[self.event_id] = self
        self.followers.add(follower)
        follower.deliver(self.full_message())

    def leave(self, follower: Follower) -> None:
        follower.feeds.pop(self.event_id, None)
        self.followers.discard(follower)

    # The feed's task: the broker's updates, and the timer of full payloads.

    async def _run(self) -> None:
        try:
            await follow(
                self.hub.platform.broker,
                f"event:{self.event_id}",
                self.ready,
                self._subscribed,
                self._follow,
            )
        except Exception:
            log.exception("event %s: the hub's feed failed", self.event_id)
        finally:
            self.hub._ended(self)

    async def _subscribed(self, again: bool) -> None:
        """Subscribed (first, so no update between the snapshot and the loop is lost): the
        latest snapshot is all a feed needs, after a lag too."""
        processors = self.hub.platform.processors
        processor = processors.running(self.event_id)
        if processor is None:
            processor = await processors.get(self.event_id, fresh=False)
        self._advance(processor)

    async def _follow(self, subscription: Any) -> None:
        processors = self.hub.platform.processors
        while True:
            try:
                data = await asyncio.wait_for(anext(subscription), self._until_full_due())
            except TimeoutError:
                data = None
            except StopAsyncIteration:
                return
            if data is not None:
                envelope = unframe(data)
                last = self._processor
                if envelope.ended and last is not None and last.epoch == envelope.epoch:
                    # The processor stopped: a full payload of its final state.
                    self.stream.restart(self.stream.event)
                    self._advance(last)
                    continue
            processor = processors.running(self.event_id)
            if processor is not None:
                self._advance(processor)
            # else the processor stopped: its last state stands until a new one starts

    def _until_full_due(self) -> float | None:
        """Seconds until a full payload is due; None (no timer) while no processor runs."""
        if self.hub.platform.processors.running(self.event_id) is None:
            return None
        due = self._last_full_ms + self.hub.full_every_ms - self.hub.clock()
        return max(due, 0) / 1000

    def _advance(self, processor: EventProcessor) -> None:
        if processor.epoch != self.stream.event.epoch:
            # Another run of the processor: a full payload of its state, carrying its epoch.
            self.stream.restart(replace(self.stream.event, epoch=processor.epoch))
        self._processor = processor
        snapshot = processor.state.snapshot
        now = self.hub.clock()
        status = self.stream.next(snapshot, now)
        self._snapshot = snapshot
        if status is not None:
            self._publish(status, now)

    def _publish(self, status: Status, now: int) -> None:
        text = signalr.receive_message(status.text)
        if status.full:
            self._full, self._last_full_ms = text, now
        else:
            self._full = None
        for follower in tuple(self.followers):
            follower.deliver(text)


# --- the hub ------------------------------------------------------------------------------------


class Hub:
    """The running hub of one server: negotiations, and a feed per followed event."""

    def __init__(
        self,
        platform: Platform,
        *,
        full_every_ms: int = FULL_EVERY_MS,
        keep_alive_ms: int = signalr.KEEP_ALIVE_MS,
        client_timeout_ms: int = signalr.CLIENT_TIMEOUT_MS,
        handshake_timeout_ms: int = signalr.HANDSHAKE_TIMEOUT_MS,
        clock: Callable[[], int] = monotonic_ms,
    ) -> None:
        self.platform = platform
        self.full_every_ms = full_every_ms
        self.keep_alive_ms = keep_alive_ms
        self.client_timeout_ms = client_timeout_ms
        self.handshake_timeout_ms = handshake_timeout_ms
        self.clock = clock
        self.negotiations = Negotiations(platform.keys)
        self._feeds: dict[int, EventFeed] = {}

    async def principal(self, token: str) -> Principal:
        """Who a bearer token names; Unauthenticated for a bad, expired or revoked one."""
        try:
            subject = await self.platform.tokens.verify(token)
        except InvalidToken as exc:
            raise Unauthenticated(str(exc)) from None
        async with self.platform.db_factory() as db:
            return await principals.load_principal(db, subject)

    async def subscribe(
        self, follower: Follower, event_id: int, principal: Principal | None
    ) -> None:
        """Follow an event's live data: a full payload now, then its updates.

        Raises NotFound, Unauthenticated (a private event and no token) or Forbidden.
        """
        async with self.platform.db_factory() as db:
            info = event_info(await events.watchable_event(db, event_id, principal))
        while True:
            feed = self._feeds.get(event_id)
            if feed is None:
                feed = self._feeds[event_id] = EventFeed(self, info)
                feed.start()
            await asyncio.shield(feed.ready)
            if self._feeds.get(event_id) is feed and not follower.closing:
                feed.join(follower)
                return
            if follower.closing:
                return
            # The feed stopped while we waited (its last follower left): start another.

    def unsubscribe(self, follower: Follower, event_id: int) -> None:
        feed = follower.feeds.get(event_id)
        if feed is not None:
            feed.leave(follower)
            if not feed.followers:
                self._stop(feed)

    def leave(self, follower: Follower) -> None:
        """The connection ended: it follows nothing any more."""
        for event_id in list(follower.feeds):
            self.unsubscribe(follower, event_id)

    def following(self, event_id: int) -> int:
        """How many connections follow an event (for tests and diagnostics)."""
        feed = self._feeds.get(event_id)
        return 0 if feed is None else len(feed.followers)

    def _stop(self, feed: EventFeed) -> None:
        if self._feeds.get(feed.event_id) is feed:
            del self._feeds[feed.event_id]
        if feed.task is not None:
            feed.task.cancel()

    def _ended(self, feed: EventFeed) -> None:
        """A feed's task ended; its followers (if any) are told to reconnect."""
        if self._feeds.get(feed.event_id) is feed:
            del self._feeds[feed.event_id]
        if not feed.ready.done():
            feed.ready.set_exception(RuntimeError("the event's live feed stopped"))
            feed.ready.exception()  # retrieved: nobody may be waiting
        closing = signalr.close("the server stopped following this event", allow_reconnect=True)
        for follower in tuple(feed.followers):
            follower.close(closing)
        feed.followers.clear()
