"""
Broadcasts handed from the sync thread to the event loop without waiting.

A change commits on the thread that ran it: under an ASGI server that is the
process's one sync thread (asgiref's thread-sensitive executor, which every
`database_sync_to_async` call and every sync Django view share). Its
on_commit broadcast used to be `async_to_sync(layer.group_send)(…)`, which
makes that thread wait until the event loop has taken the coroutine and
finished it; under fan-out the loop is busy delivering the previous event,
and that wait was 1–12 ms per change (BENCHMARKS.md), in which the thread
could start no other change, join or request of its process.

Here a broadcast joins a FIFO that belongs to the loop, and one task on that
loop sends them in order with `await group_send(…)`. So a process still
publishes its events in commit order, as the waiting thread did; between
processes nothing ever ordered them but the seq (clients replay gaps, SPEC
§5). The change's transaction has committed before anything is queued, so a
rolled-back change is still never announced.

Where no event loop of ours is running on another thread (a management
command, a shell, a sync test), `post()` waits for the send as before.
"""

import asyncio
import collections
import logging
import os
import weakref

from asgiref.sync import SyncToAsync, async_to_sync

from boards.realtime.drops import Drops

logger = logging.getLogger(__name__)

# Broadcasts a loop may hold unsent (its layer is down or far behind). Past it
# new ones are dropped and logged, like a full channel in boards.tuning.layers:
# the events are in the log and clients recover them by seq.
LIMIT = 10_000

_outboxes = weakref.WeakKeyDictionary()  # event loop -> Outbox


class Outbox:
    """The unsent broadcasts of one event loop, sent one at a time in order."""

    def __init__(self):
        self.pending = collections.deque()
        self.sending = None  # the task sending them, while there is one (the loop only holds tasks weakly)
        self.drops = Drops(
            logger,
            "broadcast of %(what)s dropped (%(count)d since the last report): %(limit)d unsent on this process; "
            "clients recover them by seq",
        )

    def add(self, send, args, what):
        """On the loop: queue `send(*args)`; start the sender if it is idle."""
        if len(self.pending) >= LIMIT:
            self.drops.count += 1
            self.drops.report(what=what, limit=LIMIT)
            return
        self.pending.append((send, args, what))
        if self.sending is None:
            self.sending = asyncio.get_running_loop().create_task(self._send_all())

    async def _send_all(self):
        try:
            while self.pending:
                send, args, what = self.pending.popleft()
                try:
                    await send(*args)
                except Exception:
                    logger.exception("broadcast of %s failed", what)
        finally:
            self.sending = None
            if self.pending:  # cancelled with work left (loop shutting down): nothing more to do
                logger.warning("%d broadcast(s) unsent at shutdown; clients recover them by seq", len(self.pending))
                self.pending.clear()


def _caller_loop():
    """The running event loop this sync thread serves (asgiref's sync_to_async
    records it for its threads), or None: then there is none to hand off to."""
    try:
        asyncio.get_running_loop()
        return None  # called on a loop's own thread: nothing to hand off to
    except RuntimeError:
        pass
    local = SyncToAsync.threadlocal
    loop = getattr(local, "main_event_loop", None)
    if loop is None or getattr(local, "main_event_loop_pid", None) != os.getpid():
        return None
    if loop.is_closed() or not loop.is_running():
        return None
    return loop


def post(send, *args, what="event"):
    """Run `await send(*args)` on the caller's event loop, after everything
    posted before it from this process, without waiting for it; or, with no
    loop to hand it to, now and waiting. Failures are logged, not raised."""
    loop = _caller_loop()
    if loop is None:
        try:
            async_to_sync(send)(*args)
        except Exception:
            logger.exception("broadcast of %s failed", what)
        return
    outbox = _outboxes.get(loop)
    if outbox is None:
        outbox = _outboxes.setdefault(loop, Outbox())  # first broadcast of this loop (no reference back to it)
    try:
        loop.call_soon_threadsafe(outbox.add, send, args, what)
    except RuntimeError:  # the loop closed in between
        logger.warning("broadcast of %s dropped: its event loop has closed", what)
