"""
boards.fastconsumer: the consumer loop and the layers' direct delivery.

A group message may be dispatched during the layer's delivery instead of
through the consumer's queue and task. These tests pin down what must not
change because of that, on both layers (in-memory and Redis pub/sub): one
handler at a time, arrival order, a handler that waits is finished, errors
end the consumer, handlers run in the consumer's context, not the sender's.
"""

import asyncio
import contextvars

import pytest
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import channel_layers, get_channel_layer
from channels.testing import WebsocketCommunicator

from boards.fastconsumer import LeanDispatchMixin

GROUP = "fastconsumer.test"
who = contextvars.ContextVar("who", default="nobody")


class Recorder(LeanDispatchMixin, AsyncWebsocketConsumer):
    """Logs every handler's start and end; `hold` makes the next handler wait."""

    log = []
    gate = None  # an asyncio.Event the `wait` handlers wait on

    async def dispatch(self, message):
        # As BoardConsumer: no database hop before every handler.
        await getattr(self, message["type"].replace(".", "_"))(message)

    async def connect(self):
        await self.channel_layer.group_add(GROUP, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        await self.channel_layer.group_discard(GROUP, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        self.log.append(("start", text_data))
        if text_data == "wait":
            await self.gate.wait()
        self.log.append(("end", text_data))

    async def note(self, message):
        self.log.append(("start", message["n"]))
        task = asyncio.current_task()
        self.log.append(("task", task.get_coro().__qualname__ if task else None))
        self.log.append(("context", who.get()))
        if message.get("wait"):
            await self.gate.wait()
        if message.get("fail"):
            raise RuntimeError("handler failed")
        if message.get("echo"):
            # A handler's own group_send reaches this consumer again, after it.
            await self.channel_layer.group_send(GROUP, {"type": "note", "n": message["n"] + "-echo"})
        await self.send(text_data=str(message["n"]))
        self.log.append(("end", message["n"]))


@pytest.fixture(params=["memory", "redis"])
def layer_kind(request, settings):
    if request.param == "redis":
        request.getfixturevalue("redis_mode")
    else:
        settings.CHANNEL_LAYERS = {"default": {"BACKEND": "boards.layers.LiveboardInMemoryChannelLayer"}}
        channel_layers.backends.clear()
    return request.param


@pytest.fixture
async def layer(layer_kind):
    Recorder.log = []
    Recorder.gate = asyncio.Event()
    return get_channel_layer()


async def open_recorder():
    comm = WebsocketCommunicator(Recorder.as_asgi(), "/ws/")
    connected, _ = await comm.connect()
    assert connected
    return comm


async def frames(comm, count):
    return [await comm.receive_from(timeout=3) for _ in range(count)]


async def logged(entry, timeout=3.0):
    """Wait until the handlers have logged `entry` (the Redis layer delivers a moment later)."""
    for _ in range(int(timeout / 0.01)):
        if entry in Recorder.log:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{entry} not logged: {Recorder.log}")


def starts_and_ends(log):
    return [entry for entry in log if entry[0] in ("start", "end")]


async def test_an_idle_consumer_handles_a_group_message_without_its_pump(layer):
    comm = await open_recorder()
    await layer.group_send(GROUP, {"type": "note", "n": "a"})
    assert await frames(comm, 1) == ["a"]
    tasks = [entry[1] for entry in Recorder.log if entry[0] == "task"]
    assert tasks and "DispatchPump._pump" not in tasks[0]
    await comm.disconnect()


async def test_with_direct_dispatch_off_every_message_goes_through_the_pump(layer, settings):
    settings.LIVEBOARD_DIRECT_DISPATCH = False
    comm = await open_recorder()
    await layer.group_send(GROUP, {"type": "note", "n": "a"})
    assert await frames(comm, 1) == ["a"]
    assert ("task", "DispatchPump._pump") in Recorder.log
    await comm.disconnect()


async def test_the_handler_runs_in_the_consumers_context_not_the_senders(layer):
    comm = await open_recorder()
    who.set("sender")
    await layer.group_send(GROUP, {"type": "note", "n": "a"})
    assert await frames(comm, 1) == ["a"]
    assert ("context", "nobody") in Recorder.log  # the application's own (empty) context
    await comm.disconnect()


async def test_a_waiting_handler_is_finished_before_the_next_message_in_order(layer):
    comm = await open_recorder()
    await layer.group_send(GROUP, {"type": "note", "n": "1", "wait": True})
    await logged(("start", "1"))
    for n in "234":
        await layer.group_send(GROUP, {"type": "note", "n": n})
    assert await comm.receive_nothing(timeout=0.2)
    assert starts_and_ends(Recorder.log) == [("start", "1")]
    Recorder.gate.set()
    assert await frames(comm, 4) == ["1", "2", "3", "4"]
    assert starts_and_ends(Recorder.log) == [(edge, n) for n in "1234" for edge in ("start", "end")]
    await comm.disconnect()


async def test_group_messages_wait_for_a_running_receive_handler(layer):
    comm = await open_recorder()
    await comm.send_to(text_data="wait")
    await asyncio.sleep(0.05)
    await layer.group_send(GROUP, {"type": "note", "n": "1"})
    assert await comm.receive_nothing(timeout=0.2)
    assert starts_and_ends(Recorder.log) == [("start", "wait")]
    Recorder.gate.set()
    assert await frames(comm, 1) == ["1"]
    assert starts_and_ends(Recorder.log) == [("start", "wait"), ("end", "wait"), ("start", "1"), ("end", "1")]
    await comm.disconnect()


async def test_a_handlers_own_group_send_does_not_re_enter_it(layer):
    comm = await open_recorder()
    await layer.group_send(GROUP, {"type": "note", "n": "1", "echo": True})
    assert await frames(comm, 2) == ["1", "1-echo"]
    assert starts_and_ends(Recorder.log) == [("start", "1"), ("end", "1"), ("start", "1-echo"), ("end", "1-echo")]
    await comm.disconnect()


async def test_a_failing_handler_ends_the_consumer_with_its_error(layer):
    comm = await open_recorder()
    await layer.group_send(GROUP, {"type": "note", "n": "1", "fail": True})
    with pytest.raises(RuntimeError, match="handler failed"):
        await comm.wait(timeout=3)


async def test_a_failing_handler_after_a_wait_ends_the_consumer_with_its_error(layer):
    comm = await open_recorder()
    await layer.group_send(GROUP, {"type": "note", "n": "1", "wait": True, "fail": True})
    await asyncio.sleep(0.05)
    Recorder.gate.set()
    with pytest.raises(RuntimeError, match="handler failed"):
        await comm.wait(timeout=3)


async def test_closing_while_a_handler_waits_cancels_it_and_leaves_nothing_behind(layer):
    comm = await open_recorder()
    await layer.group_send(GROUP, {"type": "note", "n": "1", "wait": True})
    await logged(("start", "1"))
    await comm.disconnect()
    assert starts_and_ends(Recorder.log) == [("start", "1")]
    direct = layer._get_layer()._direct if hasattr(layer, "_get_layer") else layer._direct
    assert direct == {}  # detached
    Recorder.gate.set()
    await asyncio.sleep(0.05)
    assert starts_and_ends(Recorder.log) == [("start", "1")]


# --- sync_text_sender: where a frame can be sent without a coroutine ---------------


def recording_protocol():
    """daphne's own WebSocketProtocol, not connected: records what it would send."""
    from daphne.ws_protocol import WebSocketProtocol

    class Recording(WebSocketProtocol):
        def serverSend(self, content, binary=False):
            self.sent.append((content, binary))

    protocol = Recording.__new__(Recording)  # no factory, no transport
    protocol.sent = []
    protocol.state = protocol.STATE_OPEN
    return protocol


def test_daphnes_send_has_a_plain_form_with_its_connection_checks():
    import functools

    from daphne.server import Server

    from boards.fastconsumer import sync_text_sender

    server = Server(application=None, endpoints=["tcp:port=0:interface=127.0.0.1"])  # not started
    stock, plain = recording_protocol(), recording_protocol()
    server.connections = {stock: {}, plain: {}}
    send_text = sync_text_sender(functools.partial(server.handle_reply, plain))
    for text in ["one", "", "ünï\u2028"]:
        stock.handle_reply({"type": "websocket.send", "text": text})  # what daphne does
        send_text(text)
    assert plain.sent == stock.sent == [("one", False), ("ünï\u2028", False)]

    stock.state = plain.state = plain.STATE_CONNECTING  # not accepted yet: both refuse
    with pytest.raises(ValueError, match="not been accepted") as refused:
        stock.handle_reply({"type": "websocket.send", "text": "early"})
    with pytest.raises(ValueError, match=str(refused.value)):
        send_text("early")

    plain.state = plain.STATE_OPEN
    server.connections[plain]["disconnected"] = 1.0
    send_text("two")  # as Server.handle_reply: dropped once daphne saw the disconnect
    del server.connections[plain]  # daphne removes the entry only after that
    send_text("three")
    assert plain.sent == [("one", False), ("ünï\u2028", False)]
    assert sync_text_sender(functools.partial(server.handle_reply, recording_protocol())) is None  # not served


async def test_unknown_sends_have_no_plain_form():
    from boards.fastconsumer import sync_text_sender

    async def send(message):
        pass

    assert sync_text_sender(send) is None
    assert sync_text_sender(asyncio.Queue(maxsize=1).put) is None  # put may wait
    unbounded = asyncio.Queue()
    sync_text_sender(unbounded.put)("x")
    assert unbounded.get_nowait() == {"type": "websocket.send", "text": "x"}


async def test_board_events_go_out_the_same_with_and_without_the_plain_send(connect, settings):
    """BoardConsumer.dispatch_now (plain send) and board_event (coroutine) forward
    the same frames and drop the same ones (the sender's own)."""
    import json

    from tests.wsclient import join

    for direct in (True, False):
        settings.LIVEBOARD_DIRECT_DISPATCH = direct
        viewer, editor = await connect(), await connect("bob")
        await join(viewer, "board-1")
        await join(editor, "board-1")
        await editor.send_json_to(
            {"type": "create_task", "ref": "r", "boardId": "board-1", "listId": "list-todo", "title": f"direct={direct}"}
        )
        ack = None
        while ack is None:
            frame = await editor.receive_json_from(timeout=3)
            ack = frame if frame["type"] == "ack" else None
        event = None
        while event is None:
            frame = json.loads(await viewer.receive_from(timeout=3))
            event = frame if frame["type"] == "task_created" else None
        assert (event["seq"], event["task"]["title"]) == (ack["seq"], f"direct={direct}")
        assert await editor.receive_nothing(timeout=0.1)  # not echoed its own change
        await viewer.disconnect()
        await editor.disconnect()
