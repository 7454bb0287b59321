"""
boards.tuning.fastconsumer: the consumer loop and the layers' direct delivery.

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

from boards.tuning.fastconsumer import LeanDispatchMixin

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
        if message.get("mutate"):
            message["n"] = "changed by a handler"


@pytest.fixture(params=["memory", "redis"])
def layer_kind(request, settings):
    if request.param == "redis":
        request.getfixturevalue("redis_mode")
    else:
        settings.CHANNEL_LAYERS = {"default": {"BACKEND": "boards.tuning.layers.LiveboardInMemoryChannelLayer"}}
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


async def test_a_handler_changing_its_message_does_not_change_the_other_members(layer):
    """The layer offers one message to every idle member; each handler gets its own copy."""
    comms = [await open_recorder() for _ in range(3)]
    await layer.group_send(GROUP, {"type": "note", "n": "1", "mutate": True})
    for comm in comms:
        assert await frames(comm, 1) == ["1"]
    for comm in comms:
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


def open_protocols(server, count):
    """daphne's own WebSocketProtocols, open, each writing to a StringTransport."""
    from daphne.ws_protocol import WebSocketFactory
    from twisted.internet.testing import StringTransport

    factory = WebSocketFactory(server, server="daphne")
    factory.setProtocolOptions(openHandshakeTimeout=0, maxMessagePayloadSize=100_000)  # as daphne, no timers
    protocols = []
    for _ in range(count):
        protocol = factory.buildProtocol(("127.0.0.1", 40000))
        protocol.makeConnection(StringTransport())
        protocol.state = protocol.STATE_OPEN  # as after the handshake (onConnect, onOpen)
        protocol.client_addr = ["127.0.0.1", 40000]
        protocols.append(protocol)
    server.connections = {protocol: {} for protocol in protocols}
    return protocols


def test_daphnes_send_has_a_plain_form_with_its_connection_checks():
    """The plain send writes what autobahn writes for a text message — the
    same bytes, the same traffic counters — with daphne's checks, for small,
    medium and large frames, one shared str or a new one each time."""
    import functools

    from autobahn.exception import PayloadExceededError
    from daphne.server import Server

    from boards.tuning.fastconsumer import sync_text_sender

    server = Server(application=None, endpoints=["tcp:port=0:interface=127.0.0.1"])  # not started
    stock, plain = open_protocols(server, 2)
    send_text = sync_text_sender(functools.partial(server.handle_reply, plain))
    shared = "ünï\u2028" * 40
    texts = ["one", "", shared, shared, "x" * 125, "y" * 126, "z" * 65535, "w" * 65536, "two"]
    for text in texts:
        if text:
            stock.sendMessage(text.encode("utf8"))  # autobahn's own framing and counting
        send_text(text)
    assert plain.transport.value() == stock.transport.value()
    assert len(plain.transport.value()) > sum(map(len, texts))
    assert vars(plain.trafficStats) == vars(stock.trafficStats)

    with pytest.raises(PayloadExceededError):
        send_text("v" * 100_001)  # over the size limit: autobahn's own error, nothing written
    assert plain.transport.value() == stock.transport.value()

    plain.state = plain.STATE_CONNECTING  # not accepted yet: refused, as daphne refuses
    with pytest.raises(ValueError, match="not been accepted") as refused:
        stock.state = stock.STATE_CONNECTING
        stock.handle_reply({"type": "websocket.send", "text": "early"})
    with pytest.raises(ValueError, match=str(refused.value)):
        send_text("early")

    plain.state = plain.STATE_OPEN
    server.connections[plain]["disconnected"] = 1.0
    send_text("three")  # as Server.handle_reply: dropped once daphne saw the disconnect
    del server.connections[plain]  # daphne removes the entry only after that
    send_text("four")
    assert plain.transport.value() == stock.transport.value()
    assert sync_text_sender(functools.partial(server.handle_reply, open_protocols(server, 1)[0])) is not None
    assert sync_text_sender(functools.partial(server.handle_reply, object())) is None  # not served


async def test_unknown_sends_have_no_plain_form():
    from boards.tuning.fastconsumer import sync_text_sender

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

    from tests.support.wsclient import join

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
