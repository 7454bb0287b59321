"""
boards.realtime.outbox: a broadcast posted from the sync thread is sent by the event
loop, in order, without the thread waiting for it.
"""

import asyncio
import logging
import threading

import pytest
from asgiref.sync import sync_to_async

from boards.realtime import outbox


@pytest.fixture
def logged():
    """What boards.realtime.outbox logs (the "boards" logger does not propagate to caplog)."""
    lines = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = lambda record: lines.append(record.getMessage())
    log = logging.getLogger("boards.realtime.outbox")
    log.addHandler(handler)
    yield lines
    log.removeHandler(handler)


async def eventually(predicate, timeout=5.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.005)


async def test_the_sync_thread_does_not_wait_for_the_send():
    """The send waits for the test's go-ahead; the thread posts two and returns.
    (With async_to_sync the thread would wait for the first send: a deadlock.)"""
    go = asyncio.Event()
    sent = []

    async def send(item):
        await go.wait()
        sent.append(item)

    def on_the_sync_thread():
        outbox.post(send, 1)
        outbox.post(send, 2)
        return threading.current_thread() is not threading.main_thread(), list(sent)

    other_thread, seen = await asyncio.wait_for(sync_to_async(on_the_sync_thread)(), timeout=5)
    assert other_thread and seen == []
    go.set()
    await eventually(lambda: len(sent) == 2)
    assert sent == [1, 2]


async def test_sends_run_one_at_a_time_in_posting_order():
    running, order = [], []

    async def send(item):
        running.append(item)
        assert len(running) == 1, "two sends overlapped"
        await asyncio.sleep(0.001 * (item % 3))  # later ones would finish first if they overlapped
        order.append(item)
        running.remove(item)

    def post_all():
        for item in range(50):
            outbox.post(send, item)

    await sync_to_async(post_all)()
    await eventually(lambda: len(order) == 50)
    assert order == list(range(50))


async def test_a_failed_send_is_logged_and_the_next_ones_still_go(logged):
    sent = []

    async def send(item):
        if item == "bad":
            raise ConnectionError("layer down")
        sent.append(item)

    def post_all():
        for item in ("a", "bad", "b"):
            outbox.post(send, item, what=f"event {item}")

    await sync_to_async(post_all)()
    await eventually(lambda: len(sent) == 2)
    assert sent == ["a", "b"]
    assert logged == ["broadcast of event bad failed"]


async def test_past_the_limit_new_broadcasts_are_dropped_and_logged(monkeypatch, logged):
    """LIMIT counts what waits behind the send in progress; drops are logged
    at most once per interval."""
    monkeypatch.setattr(outbox, "LIMIT", 3)
    go = asyncio.Event()
    started, sent = [], []

    async def send(item):
        started.append(item)
        await go.wait()
        sent.append(item)

    def post(items):
        for item in items:
            outbox.post(send, item, what=f"event {item}")

    await sync_to_async(post)([0])
    await eventually(lambda: started == [0])  # 0 is being sent, and waits
    await sync_to_async(post)(range(1, 7))
    box = outbox._outboxes[asyncio.get_running_loop()]
    await eventually(lambda: box.drops.count == 3)
    go.set()
    await eventually(lambda: len(sent) == 4)
    await asyncio.sleep(0.05)
    assert sent == [0, 1, 2, 3]
    # One warning for the flood, not one per dropped event.
    assert [line.split(":")[0] for line in logged] == ["broadcast of event 4 dropped (1 since the last report)"]


def test_with_no_event_loop_to_hand_it_to_the_caller_waits():
    """A management command or a shell: the send has happened when post() returns."""
    sent = []

    async def send(item):
        await asyncio.sleep(0.01)
        sent.append(item)

    outbox.post(send, "now")
    assert sent == ["now"]


def test_with_no_event_loop_a_failure_is_logged_not_raised(logged):
    async def send():
        raise ConnectionError("layer down")

    outbox.post(send, what="the event")
    assert logged == ["broadcast of the event failed"]


async def test_a_thread_of_its_own_sends_and_waits_itself():
    """A thread that no event loop waits on (not one of sync_to_async's) has
    nothing to hand off to, even while this test's loop runs."""
    sent = []

    async def send(item):
        sent.append(item)

    def post_and_look():
        outbox.post(send, "x")
        return list(sent)

    thread = threading.Thread(target=lambda: seen.extend(post_and_look()))
    seen = []
    thread.start()
    await sync_to_async(thread.join)(timeout=5)
    assert seen == ["x"]


def test_an_outbox_keeps_no_reference_to_its_event_loop():
    """Outboxes are kept per loop in a WeakKeyDictionary: an outbox (or its
    finished sending task) referring back to its loop would keep every
    loop that ever broadcast alive."""
    import gc

    async def send(item):
        pass

    async def post_from_a_thread():
        await sync_to_async(outbox.post)(send, 1)
        await asyncio.sleep(0.01)

    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(post_from_a_thread())
        box = outbox._outboxes[loop]
        assert box.sending is None and not box.pending  # sent; its task is gone
        assert loop not in gc.get_referents(box)
    finally:
        loop.close()
