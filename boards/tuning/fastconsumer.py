"""
A leaner message loop for long-lived consumers that fan out broadcasts.

channels' `AsyncConsumer.__call__` feeds messages to `dispatch` through
`channels.utils.await_many_dispatch`, which for *every* message creates a new
task for the source that produced it and runs `asyncio.wait()` over all
sources (a future, a done-callback on each task, then their removal). For a
board socket that forwards one broadcast per event, that bookkeeping cost
more than forwarding the frame.

`LeanDispatchMixin` keeps the consumer contract — the same sources (the ASGI
`receive` and the channel layer), handlers run one at a time in arrival
order per source, `StopConsumer` ends the consumer, a handler's exception
ends it with that exception, and the pending receives are cancelled on the
way out (so channel layers clean up) — with one long-lived task per source
and a lock around `dispatch` instead.

With a layer that offers it (`attach_direct`, boards/tuning/layers.py) a channel
message can also be dispatched *during* the layer's `group_send`, when the
consumer is idle: nothing of its own is queued, taken or running
(LIVEBOARD_DIRECT_DISPATCH, on by default). That skips
the queue, the task wake-up and the loop turn per member — about a third of
the server's CPU per broadcast frame (py-spy, BENCHMARKS.md). A handler that
has to wait (a database call, a full socket) is finished by a task that holds
the lock, so handlers still never overlap and never overtake one another.

WebSocket frames also skip channels' session wrapper, which does nothing for
them (see `_unwrap_session_send`).
"""

import asyncio
import contextvars
import functools

from channels.exceptions import StopConsumer
from channels.layers import get_channel_layer
from channels.sessions import InstanceSessionWrapper
from django.conf import settings


class DispatchPump:
    """Calls `dispatch(message)` for messages from several sources, one at a time.

    Messages of one source are dispatched in the order they arrive; a
    handler's exception (or StopConsumer) ends `run()` with it.
    """

    __slots__ = ("dispatch", "now", "lock", "busy", "context", "ended", "finishing")  # one per socket: keep it small

    def __init__(self, dispatch, now=None):
        self.dispatch = dispatch
        self.now = now  # optional: handles a message synchronously and says so, or returns False
        self.lock = asyncio.Lock()
        self.busy = 0  # messages taken from a source or delivered, whose handler has not finished
        self.context = contextvars.copy_context()  # direct deliveries run in a copy of this, not in the sender's
        self.ended = asyncio.get_running_loop().create_future()
        self.finishing = None  # tasks finishing a direct delivery that had to wait (a set, once there is one)

    async def run(self, sources):
        tasks = [asyncio.ensure_future(self._pump(source)) for source in sources]
        try:
            done, _ = await asyncio.wait([*tasks, self.ended], return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()  # StopConsumer, or the handler's exception
        finally:
            self.ended.cancel()  # no more direct deliveries
            pending = [*tasks, *(self.finishing or ())]
            for task in pending:
                task.cancel()
            for task in pending:
                try:
                    await task
                except (asyncio.CancelledError, StopConsumer):
                    pass

    async def _pump(self, source):
        while True:
            message = await source()
            self.busy += 1
            try:
                async with self.lock:
                    await self.dispatch(message)
            finally:
                self.busy -= 1

    def deliver_now(self, message):
        """Dispatch `message` right away if nothing else is in progress.

        Returns False when the consumer is busy or has ended; the layer then
        queues the message for the pump as usual. The caller checks that the
        consumer's own queue is empty.
        """
        if self.busy or self.ended.done():
            return False
        self.busy += 1  # also while it runs here: a handler's own group_send must not re-enter it
        try:
            if self.now is not None and self.now(message):
                self.busy -= 1
                return True
            coro = self.dispatch(message)
            context = self.context.copy()  # its own, as a task per message would have
            waiting_on = context.run(coro.send, None)
        except StopIteration:  # the handler finished without waiting
            self.busy -= 1
            return True
        except BaseException as exc:  # noqa: BLE001 - ends the consumer, as in the pump
            self.busy -= 1
            self.ended.set_exception(exc)
            return True
        # The handler awaits something: hold the lock until it is done.
        _acquire_now(self.lock)
        task = asyncio.get_running_loop().create_task(self._finish(coro, waiting_on), context=context)
        if self.finishing is None:
            self.finishing = set()
        self.finishing.add(task)
        task.add_done_callback(self.finishing.discard)
        return True

    async def _finish(self, coro, waiting_on):
        try:
            await resume(coro, waiting_on)
        except BaseException as exc:
            if not self.ended.done():
                self.ended.set_exception(exc)
            if isinstance(exc, asyncio.CancelledError):
                raise
        finally:
            self.busy -= 1
            self.lock.release()


def _acquire_now(lock):
    """Take a free, uncontended asyncio.Lock without yielding."""
    acquire = lock.acquire()
    try:
        acquire.send(None)
    except StopIteration:
        return
    acquire.close()
    raise RuntimeError("lock was not free")


async def resume(coro, waiting_on):
    """Drive to its end a coroutine that was started by hand.

    `waiting_on` is what its last `send()` yielded: an asyncio future (the
    coroutine reads the outcome from it when resumed) or None (a bare yield,
    as in `asyncio.sleep(0)`). Cancelling this task cancels that future, or
    is thrown into the coroutine, as a Task would do.
    """
    while True:
        try:
            if waiting_on is None:
                await asyncio.sleep(0)
            else:
                waiting_on._asyncio_future_blocking = False  # as Task does with what a coroutine yields
                await waiting_on
        except BaseException as exc:
            if waiting_on is None or not waiting_on.done():
                try:
                    waiting_on = coro.throw(exc)
                except StopIteration:
                    return
                continue
        try:
            waiting_on = coro.send(None)
        except StopIteration:
            return


def _unwrap_session_send(scope, send):
    """The send under channels' session wrapper, for WebSocket scopes.

    `SessionMiddleware` wraps `send` to save the session and set its cookie
    on `http.response.start`; for every other message its wrapper only reads
    two attributes of the lazy session and passes the message on — per
    broadcast frame, for nothing. WebSocket messages skip it. (The session
    itself, scope["session"], is untouched; saving it from a consumer is
    explicit, `await scope["session"].asave()`, as channels documents.)
    """
    wrapper = getattr(send, "__self__", None)
    if (
        scope.get("type") == "websocket"
        and type(wrapper) is InstanceSessionWrapper
        and getattr(send, "__func__", None) is InstanceSessionWrapper.send
        and not any(t.startswith("websocket") for t in wrapper.save_message_types)
        and not any(t.startswith("websocket") for t in wrapper.cookie_response_message_types)
    ):
        return wrapper.real_send
    return send


def sync_text_sender(send):
    """`send_text(text)`: a plain function that sends a text frame as `send`
    would, for the servers whose `send` we know never waits; else None.

    daphne's `send` is `partial(Server.handle_reply, protocol)`, a coroutine
    that checks the connection and hands the message to the protocol without
    awaiting anything; this does the same without a coroutine per frame, and
    without the message dict: the checks of `Server.handle_reply` and of
    `WebSocketProtocol.handle_reply` for a text frame, then `serverSend`
    (tests/test_fastconsumer.py compares the two). The connection's entry in
    `server.connections` is read once: daphne only removes it after marking
    it "disconnected", which is what is checked per frame.
    asgiref's test communicator sends with an unbounded asyncio.Queue's `put`.
    """
    if isinstance(send, functools.partial) and len(send.args) == 1 and not send.keywords:
        try:
            from daphne.server import Server
        except ImportError:  # pragma: no cover - daphne is a dependency
            return None
        server = getattr(send.func, "__self__", None)
        if isinstance(server, Server) and getattr(send.func, "__func__", None) is Server.handle_reply:
            protocol = send.args[0]
            state = server.connections.get(protocol)
            if state is None:
                return None  # not a connection daphne is serving (yet)
            connecting = protocol.STATE_CONNECTING

            def send_text(text):
                if state.get("disconnected"):
                    return  # as Server.handle_reply
                if protocol.state == connecting:
                    raise ValueError("Socket has not been accepted, so cannot send over it")
                if text:
                    protocol.serverSend(text, False)

            return send_text
        return None
    queue = getattr(send, "__self__", None)
    if isinstance(queue, asyncio.Queue) and getattr(send, "__func__", None) is asyncio.Queue.put and queue.maxsize <= 0:
        return lambda text: queue.put_nowait({"type": "websocket.send", "text": text})
    return None


class LeanDispatchMixin:
    """Put before AsyncConsumer (or a subclass) in the bases.

    A consumer may define `dispatch_now(message)`: handle a channel message
    synchronously and return True, or return False to have it dispatched as
    usual. `self.send_text` (sync_text_sender) is there for it, or None.
    """

    async def __call__(self, scope, receive, send):
        self.scope = scope
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        self.base_send = _unwrap_session_send(scope, send)
        self.send_text = sync_text_sender(self.base_send)
        pump = DispatchPump(self.dispatch, getattr(self, "dispatch_now", None))
        sources = [receive]
        attached = None
        if self.channel_layer is not None:
            self.channel_name = await self.channel_layer.new_channel()
            self.channel_receive = functools.partial(self.channel_layer.receive, self.channel_name)
            sources.append(self.channel_receive)
            attach = getattr(self.channel_layer, "attach_direct", None) if settings.LIVEBOARD_DIRECT_DISPATCH else None
            if attach is not None:
                attached = attach(self.channel_name, pump.deliver_now)
        try:
            await pump.run(sources)
        except StopConsumer:
            pass
        finally:
            if attached is not None:
                attached()  # detach
