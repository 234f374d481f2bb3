"""The live fan-out of ``/ws/events/{id}``: one task per followed event and server node hands
each message to all of that event's viewers.

An event's ``Channel`` holds the one broker subscription of its topic on this node. For each
patch it reads the envelope once (epoch and version, ``live.envelope``), decodes the message
once into the ``str`` every viewer is sent as a text frame, and walks its viewers: one already
past that version skips it, one right behind gets it, one with a gap or on another epoch gets a
fresh snapshot instead. When the event's processor stops (the end of its epoch) every viewer
gets a fresh snapshot of its final state; the first message of a new processor's epoch is its
snapshot, and starts everyone over (as does the snapshot a leader sends once the broker answers
again after an outage). So a viewer never applies one run's patch to another run's snapshot.
On a node that does not lead the event, the processor is a follower whose live state mirrors
the leader's (``live.mirror``): viewers get the leader's versions and bytes.

Sends do not make a task per viewer and message: a viewer's send runs at once, in the channel's
task, as far as it goes without waiting (a socket whose buffer has room takes the frame
there and then); only a send that has to wait for a slow socket continues in a task of its own,
while later messages queue behind it. Where the server offers direct frame writes (the
``trackside.frames`` scope extension, ``api.sockets``) a message is written to each socket's
transport without an ASGI message, from bytes encoded once (``Outgoing``) and, with
permessage-deflate, compressed once for the viewers that had the same messages
(``live.wsframes``: the channel's ``DeflateGroups``). A viewer
``OUTBOX_LIMIT`` messages behind is sent a fresh snapshot instead of the queue. A
``{"type":"ping"}`` goes to every viewer every ``PING_INTERVAL_S``: a vanished client shows as
a failed send.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Coroutine
from typing import Any, Protocol

from starlette.websockets import WebSocket

from trackside.events.manager import ProcessorManager
from trackside.events.processors import EventProcessor, topic
from trackside.live.broker import Broker, follow
from trackside.live.envelope import Envelope, unframe
from trackside.live.patch import Message
from trackside.live.wsframes import DeflateGroups, text_frame

log = logging.getLogger(__name__)

FRAMES_EXTENSION = "trackside.frames"
PING_INTERVAL_S = 20.0
OUTBOX_LIMIT = 256  # messages queued behind a slow socket before it gets a snapshot instead
CLOSE_GOING_AWAY = 1001


class Outgoing:
    """One message for many sockets: its text, its UTF-8 bytes and, made at most once, its
    text frame as written to every socket that compresses nothing (a server's frames are not
    masked, so that frame is the same bytes for all of them). ``deflate``: the channel's
    compression groups when it broadcasts the message (``live.wsframes``), None when it goes to
    one viewer."""

    __slots__ = ("_frame", "deflate", "payload", "text")

    def __init__(
        self, text: str, payload: bytes | None = None, deflate: DeflateGroups | None = None
    ) -> None:
        self.text = text
        self.payload = text.encode() if payload is None else payload
        self.deflate = deflate
        self._frame: bytes | None = None

    @property
    def frame(self) -> bytes:
        if self._frame is None:
            self._frame = text_frame(self.payload)
        return self._frame

    @classmethod
    def of(cls, message: Message) -> Outgoing:
        return cls(message.text, message.data)


PING = '{"type":"ping"}'


class DirectFrames(Protocol):
    """A server's way to write a frame to one socket now (``api.sockets.FrameWriter``)."""

    def send(self, message: Outgoing) -> bool:
        """True if written; False if it must go through ASGI (it would wait, or is closing)."""
        ...


def start_now(coroutine: Coroutine[Any, Any, None]) -> asyncio.Future[None] | None:
    """Run ``coroutine`` in the caller's task up to its first real wait; a task finishes it
    only if it has to wait (None when it finished at once). An eager task, without the task."""
    try:
        waiting = coroutine.send(None)
    except StopIteration:
        return None
    except BaseException:
        coroutine.close()
        raise
    return asyncio.ensure_future(_finish(coroutine, waiting))


async def _finish(coroutine: Coroutine[Any, Any, None], waiting: Any) -> None:
    try:
        while True:
            if waiting is None:
                await asyncio.sleep(0)  # a bare yield: give the loop one turn
            else:
                await asyncio.wait((waiting,))  # the future the coroutine waits for
            try:
                waiting = coroutine.send(None)
            except StopIteration:
                return
    finally:
        coroutine.close()


class Viewer:
    """One ``/ws`` connection's send side: the epoch and version it has, and what waits for
    its socket."""

    __slots__ = (
        "_frames",
        "_outbox",
        "_pending",
        "_sending",
        "closed",
        "epoch",
        "version",
        "websocket",
    )

    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket
        self.epoch: int | None = None
        self.version = -1
        self.closed = False
        extensions = websocket.scope.get("extensions") or {}
        self._frames: DirectFrames | None = extensions.get(FRAMES_EXTENSION)
        self._outbox: deque[Outgoing] = deque()
        self._sending = False
        self._pending: asyncio.Future[None] | None = None

    def snapshot(self, message: Message, outgoing: Outgoing | None = None) -> None:
        """Start over from ``message`` (a snapshot; ``outgoing``: the same, already made for
        other viewers): whatever was still queued is dropped."""
        self._outbox.clear()
        self.epoch, self.version = message.epoch, message.version
        self.push(outgoing or Outgoing.of(message))

    def patch(self, version: int, message: Outgoing) -> None:
        self.version = version
        self.push(message)

    def push(self, message: Outgoing) -> None:
        if self.closed:
            return
        if not self._sending and self._frames is not None:
            try:
                if self._frames.send(message):
                    return
            except Exception:  # the client is gone: its socket's reader ends the connection
                self.closed = True
                return
        self._outbox.append(message)
        if not self._sending:
            self._sending = True
            self._pending = start_now(self._drain())

    @property
    def behind(self) -> int:
        return len(self._outbox)

    async def _drain(self) -> None:
        outbox = self._outbox
        send = self.websocket.send_text
        try:
            while outbox:
                await send(outbox.popleft().text)
        except Exception:  # the client is gone: its socket's reader ends the connection
            self.closed = True
            outbox.clear()
        finally:
            self._sending = False
            self._pending = None

    def close(self) -> None:
        """The server stops following the event: end the connection."""
        if self.closed:
            return
        self.closed = True
        self._outbox.clear()
        with contextlib.suppress(Exception):
            start_now(self._close())

    async def _close(self) -> None:
        with contextlib.suppress(Exception):
            await self.websocket.close(CLOSE_GOING_AWAY)


class Channel:
    """One event's viewers on this node and the task that feeds them."""

    def __init__(self, channels: Channels, event_id: int) -> None:
        self.channels = channels
        self.event_id = event_id
        self.viewers: set[Viewer] = set()
        self.processor: EventProcessor | None = None  # the one whose epoch viewers follow
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._made: tuple[Message, Outgoing] | None = None  # the last snapshot made to send
        self.deflate = DeflateGroups()
        self.task = asyncio.create_task(self._run(), name=f"live-fanout-{event_id}")

    # Viewers.

    def join(self, viewer: Viewer, processor: EventProcessor) -> None:
        """A viewer's snapshot now (from ``processor`` if it is newer than the channel's), then
        every patch that follows it."""
        self._follow(processor)
        self.viewers.add(viewer)
        assert self.processor is not None
        self._snapshot(viewer, self.processor.state.snapshot_message())

    def resync(self, viewer: Viewer) -> None:
        if self.processor is not None:
            self._snapshot(viewer, self.processor.state.snapshot_message())

    def leave(self, viewer: Viewer) -> None:
        self.viewers.discard(viewer)
        if not self.viewers:
            self.channels._stop(self)

    def _follow(self, processor: EventProcessor | None) -> None:
        """Viewers follow ``processor`` from now on: those on another epoch start over."""
        if processor is None or processor is self.processor:
            return
        if self.processor is not None and processor.epoch < self.processor.epoch:
            return  # an older run than the one followed
        self.processor = processor
        message = processor.state.snapshot_message()
        for viewer in tuple(self.viewers):
            if viewer.epoch != processor.epoch or viewer.version > message.version:
                self._snapshot(viewer, message)

    def _snapshot(self, viewer: Viewer, message: Message) -> None:
        """Send ``message``, encoded once for every viewer that gets it, and compressed once
        for those that get it before anything else (viewers that join together, everyone at a
        new epoch): its own deflate groups, whose first message it is."""
        made = self._made
        if made is None or made[0] is not message:
            outgoing = Outgoing(message.text, message.data, DeflateGroups())
            made = self._made = (message, outgoing)
        viewer.snapshot(message, made[1])

    def _snapshot_all(self) -> None:
        if self.processor is None:
            return
        message = self.processor.state.snapshot_message()
        for viewer in tuple(self.viewers):
            self._snapshot(viewer, message)
        self.deflate.restart()  # everyone starts over: the next patch gathers them again

    # The task.

    async def _run(self) -> None:
        try:
            await follow(
                self.channels.broker,
                topic(self.event_id),
                self.ready,
                self._subscribed,
                self._feed,
            )
        except Exception:
            log.exception("event %s: the live fan-out failed", self.event_id)
        finally:
            self.channels._ended(self)
            for viewer in tuple(self.viewers):
                viewer.close()

    async def _subscribed(self, again: bool) -> None:
        if again:
            # After lagging (or the broker's outage): whatever was missed, start over from the
            # processor running now (another run may have started meanwhile).
            running = self.channels.processors.running(self.event_id)
            if running is not None and running is not self.processor:
                self._follow(running)
            self._snapshot_all()

    async def _feed(self, subscription: Any) -> None:
        loop = asyncio.get_running_loop()
        next_ping = loop.time() + PING_INTERVAL_S
        while True:
            try:
                async with asyncio.timeout_at(next_ping):
                    data = await anext(subscription)
            except TimeoutError:
                next_ping = loop.time() + PING_INTERVAL_S
                ping = Outgoing(PING, None, self.deflate.next_round())
                for viewer in tuple(self.viewers):
                    viewer.push(ping)
                continue
            except StopAsyncIteration:
                return
            envelope = unframe(data)
            if envelope.ended:
                self._ended_epoch(envelope.epoch)
            elif envelope.snapshot:
                self._restart(envelope)
            else:
                await self._patch(envelope)

    def _restart(self, envelope: Envelope) -> None:
        """The leader's whole state (a new epoch, or after the broker was unreachable):
        every viewer not already past it starts over from it."""
        running = self.channels.processors.running(self.event_id)
        if running is not None and running.epoch == envelope.epoch:
            self.processor = running
        body = envelope.body
        message = Message("snapshot", envelope.version, body, body.decode(), envelope.epoch)
        behind = [
            viewer
            for viewer in self.viewers
            if viewer.epoch != envelope.epoch or viewer.version < envelope.version
        ]
        for viewer in behind:
            self._snapshot(viewer, message)
        if behind:
            self.deflate.restart()  # the next patch gathers them again

    def _ended_epoch(self, epoch: int) -> None:
        """The processor of ``epoch`` stopped: its final state, fresh, for every viewer."""
        if self.processor is not None and self.processor.epoch == epoch:
            self._snapshot_all()

    async def _patch(self, envelope: Envelope) -> None:
        processor = self.processor
        if processor is None or envelope.epoch != processor.epoch:
            # A new run: wait for it to be started (its first patch is published while it
            # starts), then everyone starts over with its snapshot.
            self._follow(await self.channels.processors.started(self.event_id))
            processor = self.processor
            if processor is None or envelope.epoch != processor.epoch:
                return  # a run that is not the one running here
        version = envelope.version
        outgoing: Outgoing | None = None
        snapshot: Message | None = None
        for viewer in tuple(self.viewers):
            if viewer.epoch != envelope.epoch or version > viewer.version + 1:
                snapshot = snapshot or processor.state.snapshot_message()
                if viewer.epoch != snapshot.epoch or viewer.version < snapshot.version:
                    self._snapshot(viewer, snapshot)
                continue
            if version <= viewer.version:
                continue  # already in the snapshot this viewer got
            if viewer.behind >= OUTBOX_LIMIT:
                self._snapshot(viewer, processor.state.snapshot_message())
                continue
            if outgoing is None:
                outgoing = Outgoing(
                    envelope.body.decode(), envelope.body, self.deflate.next_round()
                )
            viewer.patch(version, outgoing)


class Channels:
    """The channels of this node, one per event that has viewers here."""

    def __init__(self, processors: ProcessorManager, broker: Broker) -> None:
        self.processors = processors
        self.broker = broker
        self._channels: dict[int, Channel] = {}

    async def join(self, event_id: int, viewer: Viewer) -> Channel:
        """Start (the processor if need be and) the event's channel; the viewer gets its
        snapshot, then the patches."""
        while True:
            processor = await self.processors.get(event_id, fresh=False)
            channel = self._channels.get(event_id)
            if channel is None:
                channel = self._channels[event_id] = Channel(self, event_id)
            await asyncio.shield(channel.ready)
            if self._channels.get(event_id) is channel:
                if self.processors.running(event_id) is not processor:
                    continue  # it stopped while the channel subscribed: start again
                channel.join(viewer, processor)
                return channel
            # The channel ended while we waited (its last viewer left): start another.

    def viewers(self, event_id: int) -> int:
        channel = self._channels.get(event_id)
        return 0 if channel is None else len(channel.viewers)

    def _stop(self, channel: Channel) -> None:
        if self._channels.get(channel.event_id) is channel:
            del self._channels[channel.event_id]
        channel.task.cancel()

    def _ended(self, channel: Channel) -> None:
        if self._channels.get(channel.event_id) is channel:
            del self._channels[channel.event_id]
        if not channel.ready.done():
            channel.ready.set_exception(RuntimeError("the event's live fan-out stopped"))
            channel.ready.exception()  # retrieved: nobody may be waiting
