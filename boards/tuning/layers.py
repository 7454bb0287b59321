"""
The in-memory channel layer of the embedded mode, made O(1) per delivery.

channels' `InMemoryChannelLayer` walks every channel and every group
(`_clean_expired`) on each `receive()` and each `group_send()`, deep-copies
the message for every member, and starts one asyncio task per member in
`group_send`. With 1,000 sockets on a board one event costs ~1,000,000 dict
walks: measured 2,100 deliveries/s and ~430 µs of server CPU per delivered
frame (bench/run.py, BENCHMARKS.md), and 10 changes/s to 1,000 viewers was
out of reach.

This subclass keeps the same API, capacity and expiry semantics, but:

* `group_send` puts the message on each member's queue directly (no task per
  member) as a shallow copy — channel messages are flat dicts of immutable
  values (the event text is serialised once, boards/realtime/broadcast.py);
* expiry is swept at most once a second, not on every call;
* a consumer keeps its queue between messages (the base class deletes an
  empty queue after every receive and makes a new one on the next send);
* a message that expired is dropped, but its channel leaves its groups only
  if nobody has received from it for `expiry` seconds (a dead consumer that
  never ran group_discard) — a consumer that is merely behind stays in its
  boards and recovers the gap by seq; likewise `group_expiry` no longer
  drops the boards of a socket that has been open for more than a day;
* a full channel (`capacity`) drops the new message as before, but not
  silently: drops are counted and logged (at most once per interval), and
  the client sees the seq gap and replays it (SPEC §5).
"""

import asyncio
import logging
import time

from channels.exceptions import ChannelFull
from channels.layers import InMemoryChannelLayer

from boards.realtime.drops import Drops

logger = logging.getLogger(__name__)

SWEEP_INTERVAL = 1.0


class DirectDelivery:
    """Layer side of boards.tuning.fastconsumer's direct dispatch, for both layers.

    A consumer attaches `deliver(message)` to its channel; while nothing of
    that channel is queued, a message is offered to it during delivery
    (`deliver` returns False when the consumer is busy: then it is queued).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._direct = {}  # channel -> deliver(message)

    def attach_direct(self, channel, deliver):
        """Returns the function that detaches it."""
        self._direct[channel] = deliver
        return lambda: self._direct.pop(channel, None)

    def _delivered_directly(self, channel, message):
        deliver = self._direct.get(channel)
        if deliver is None:
            return False
        queue = self.channels.get(channel)
        return (queue is None or not queue.qsize()) and deliver(message)


class LiveboardInMemoryChannelLayer(DirectDelivery, InMemoryChannelLayer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._next_sweep = 0.0
        self._last_receive = {}
        self.drops = Drops(  # messages refused because a channel was full
            logger,
            "channel layer: %(count)d message(s) dropped on full channels (capacity %(capacity)d) "
            "since the last report; clients recover them by seq",
        )

    # --- sending -----------------------------------------------------------------

    def _queue(self, channel):
        queue = self.channels.get(channel)
        if queue is None:
            queue = self.channels[channel] = asyncio.Queue(maxsize=self.get_capacity(channel))
        return queue

    def _put(self, channel, message, deadline):
        message = dict(message)  # each member its own (flat) copy
        if self._delivered_directly(channel, message):
            return True
        try:
            self._queue(channel).put_nowait((deadline, message))
            return True
        except asyncio.QueueFull:
            self.drops.count += 1
            return False

    async def send(self, channel, message):
        assert isinstance(message, dict), "message is not a dict"
        self.require_valid_channel_name(channel)
        assert "__asgi_channel__" not in message
        self._maybe_sweep()
        if not self._put(channel, message, time.time() + self.expiry):
            self.drops.report(capacity=self.capacity)
            raise ChannelFull(channel)

    async def group_send(self, group, message):
        assert isinstance(message, dict), "Message is not a dict"
        self.require_valid_group_name(group)
        self._maybe_sweep()
        members = self.groups.get(group)
        if not members:
            return
        deadline = time.time() + self.expiry
        full = 0
        for channel in list(members):
            if not self._put(channel, message, deadline):
                full += 1
        if full:
            self.drops.report(capacity=self.capacity)

    # --- receiving -----------------------------------------------------------------

    async def receive(self, channel):
        self.require_valid_channel_name(channel)
        self._maybe_sweep()
        queue = self._queue(channel)
        self._last_receive[channel] = time.time()
        try:
            _, message = await queue.get()
        except asyncio.CancelledError:
            # The consumer is leaving. (A live consumer keeps its queue between
            # messages; empty queues of gone channels are swept.)
            if queue.empty() and self.channels.get(channel) is queue:
                del self.channels[channel]
            self._last_receive.pop(channel, None)
            raise
        self._last_receive[channel] = time.time()
        return message

    # --- expiry ----------------------------------------------------------------------

    def _maybe_sweep(self):
        now = time.monotonic()
        if now >= self._next_sweep:
            self._next_sweep = now + SWEEP_INTERVAL
            self._clean_expired()

    def _clean_expired(self):
        now = time.time()
        stale = now - self.expiry
        for channel, queue in list(self.channels.items()):
            expired = False
            while not queue.empty() and queue._queue[0][0] < now:
                queue.get_nowait()
                expired = True
            if expired and self._last_receive.get(channel, 0) < stale:
                # Nobody has read this channel for `expiry` seconds: its consumer is gone.
                self._remove_from_groups(channel)
            if queue.empty() and not queue._getters:
                self.channels.pop(channel, None)
        for channel, stamp in list(self._last_receive.items()):
            if stamp < stale and channel not in self.channels:
                del self._last_receive[channel]
        # group_expiry only ends memberships of channels nobody reads any more:
        # a viewer connected for longer than a day keeps its boards.
        timeout = int(now) - self.group_expiry
        for channels in self.groups.values():
            for name, joined in list(channels.items()):
                if joined and joined < timeout and self._last_receive.get(name, 0) < stale:
                    channels.pop(name, None)

    async def flush(self):
        await super().flush()
        self._last_receive = {}


# --- Redis (scaled mode) -------------------------------------------------------

try:
    from channels_redis.pubsub import RedisPubSubChannelLayer, RedisPubSubLoopLayer, RedisSingleShardConnection
except ImportError:  # pragma: no cover - channels-redis is a runtime dependency
    RedisPubSubChannelLayer = None

if RedisPubSubChannelLayer is not None:

    class _Shard(RedisSingleShardConnection):
        def _receive_message(self, message):
            # Deserialise a published message once, not once per member.
            if message is None:
                return
            layer = self.channel_layer
            name = message["channel"]
            if isinstance(name, bytes):
                name = name.decode()
            if name in layer.channels:
                layer.deliver(name, layer.channel_layer.deserialize(message["data"]))
                return
            members = layer.groups.get(name)
            if not members:
                return
            decoded = layer.channel_layer.deserialize(message["data"])
            for channel_name in list(members):
                layer.deliver(channel_name, dict(decoded))

    class _LoopLayer(DirectDelivery, RedisPubSubLoopLayer):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._shards = [_Shard(shard.host, self) for shard in self._shards]

        def deliver(self, channel, message):
            """To a subscribed channel of this process: its consumer now, or its queue."""
            queue = self.channels.get(channel)
            if queue is not None and not self._delivered_directly(channel, message):
                queue.put_nowait(message)

        async def receive(self, channel):
            if channel not in self.channels:
                await self._subscribe_to_channel(channel)
            queue = self.channels[channel]
            if not queue.empty():
                return queue.get_nowait()
            try:
                return await queue.get()
            except (asyncio.CancelledError, asyncio.TimeoutError, GeneratorExit):
                if channel in self.channels:  # the consumer is leaving: as channels-redis does
                    del self.channels[channel]
                    try:
                        await self._get_shard(channel).unsubscribe(channel)
                    except BaseException:
                        logger.exception("Unexpected exception while cleaning-up channel:")
                raise

    class LiveboardRedisPubSubChannelLayer(RedisPubSubChannelLayer):
        """channels-redis' pub/sub layer with a cheaper fan-out inside each process.

        The stock layer queues the raw bytes of a group message once per
        member and msgpack-decodes them in every member's `receive()`, which
        goes through two proxy coroutines (`__getattr__` → `_async_proxy`).
        Here a group message is decoded once per process and each member gets
        a shallow copy; `receive` is a plain method. Wire format, Redis
        traffic, subscriptions and cleanup are channels-redis' own (written
        against channels-redis 4.3, pinned in requirements.txt).
        """

        def _get_layer(self):
            loop = asyncio.get_running_loop()
            layer = self._layers.get(loop)
            if layer is None:
                layer = _LoopLayer(*self._args, **self._kwargs, channel_layer=self)
                self._layers[loop] = layer
                from channels_redis.utils import _wrap_close

                _wrap_close(self, loop)
            return layer

        async def receive(self, channel):
            return await self._get_layer().receive(channel)

        def attach_direct(self, channel, deliver):
            return self._get_layer().attach_direct(channel, deliver)
