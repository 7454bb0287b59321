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
way out (so channel layers clean up) — but with one long-lived task per
source and an `asyncio.Lock` around `dispatch`: a message costs one task
wake-up instead of a task creation plus an `asyncio.wait`. It also sends
WebSocket frames past channels' session wrapper, which does nothing for them
(see `_unwrap_session_send`).
"""

import asyncio
import functools

from channels.exceptions import StopConsumer
from channels.layers import get_channel_layer
from channels.sessions import InstanceSessionWrapper


async def pump_dispatch(sources, dispatch):
    """Call `dispatch(message)` for messages from every source, one at a time."""
    lock = asyncio.Lock()

    async def pump(source):
        while True:
            message = await source()
            async with lock:
                await dispatch(message)

    tasks = [asyncio.ensure_future(pump(source)) for source in sources]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            task.result()  # StopConsumer, or the handler's exception
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            try:
                await task
            except (asyncio.CancelledError, StopConsumer):
                pass


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


class LeanDispatchMixin:
    """Put before AsyncConsumer (or a subclass) in the bases."""

    async def __call__(self, scope, receive, send):
        self.scope = scope
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        sources = [receive]
        if self.channel_layer is not None:
            self.channel_name = await self.channel_layer.new_channel()
            self.channel_receive = functools.partial(self.channel_layer.receive, self.channel_name)
            sources.append(self.channel_receive)
        self.base_send = _unwrap_session_send(scope, send)
        try:
            await pump_dispatch(sources, self.dispatch)
        except StopConsumer:
            pass
