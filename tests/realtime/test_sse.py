"""
Server-Sent Events at /boards/<id>/events (SPEC §6): in-process through the
real ASGI application, then over a real daphne (tests/support/servers.py).
"""

import asyncio
import threading
import time

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token

from boards.models import Board, Membership, Task
from tests.conftest import session_cookie
from tests.support.httpclient import AsgiHttp, SSEStream, group_members, http_json, isolated_layer
from tests.support.servers import run_daphne
from tests.support.threads import commit_and_hold_broadcast, in_thread

pytestmark = pytest.mark.django_db(transaction=True)

STREAM = "/boards/board-1/events"


def seqs(events):
    return [int(e["id"]) for e in events if "id" in e]


async def open_stream(path=STREAM, query="", headers=()):
    return await AsgiHttp(path, query, headers).start()


async def create(title, list_id="list-todo"):
    return await sync_to_async(Task.objects.create)(list_id=list_id, title=title)


# --- in-process -------------------------------------------------------------------


async def test_stream_opens_with_joined_then_sends_live_events(demo):
    stream = await open_stream()
    (joined,) = await stream.events(1)
    assert stream.status == 200
    assert stream.headers["content-type"].startswith("text/event-stream")
    assert stream.headers["cache-control"] == "no-store"
    assert joined == {
        "retry": "3000", "id": "4", "event": "joined", "data": {"type": "joined", "boardId": "board-1", "seq": 4},
    }
    task = await create("live one")
    (event,) = await stream.events(1)
    assert event["id"] == "5" and event["event"] == "task_created"
    assert event["data"] == {
        "type": "task_created", "boardId": "board-1", "seq": 5,
        "task": {"id": task.pk, "listId": "list-todo", "title": "live one", "description": "", "position": 2, "version": 1, "assignee": None},
        "actor": None,  # made in a shell: no user
    }
    await stream.close()
    assert not await group_members("board.board-1")  # the client went away: out of the group


async def test_last_event_id_replays_before_live_and_wins_over_since(demo):
    await create("five")
    stream = await open_stream(query="since=0", headers=[(b"last-event-id", b"3")])
    joined, *replayed = await stream.events(3)
    assert joined["event"] == "joined" and "id" not in joined  # the resume point stays the client's
    assert seqs(replayed) == [4, 5]
    await create("six")
    assert seqs(await stream.events(1)) == [6]
    await stream.close()

    stream = await open_stream(query="since=1")  # no Last-Event-ID: ?since= is the fallback
    events = await stream.events(6)
    assert seqs(events[1:]) == [2, 3, 4, 5, 6]
    await stream.close()


@pytest.mark.parametrize("last_id, expect", [("0", [1, 2, 3, 4]), ("4", []), ("2", [3, 4])])
async def test_resume_edges(demo, last_id, expect):
    stream = await open_stream(headers=[(b"last-event-id", last_id.encode())])
    events = await stream.events(1 + len(expect))
    assert seqs(events[1:]) == expect
    await asyncio.sleep(0.1)
    assert not await stream.has_output()
    await stream.close()


@pytest.mark.parametrize("last_id", ["99", "1"])
async def test_resume_point_ahead_or_pruned_asks_for_resync(demo, last_id):
    from boards.models import BoardEvent

    await sync_to_async(lambda: BoardEvent.objects.filter(seq__lte=2).delete())()
    stream = await open_stream(headers=[(b"last-event-id", last_id.encode())])
    joined, resync = await stream.events(2)
    assert resync["event"] == "resync_required" and resync["id"] == "4"  # resume from now, after reloading
    assert resync["data"]["type"] == "resync_required" and resync["data"]["seq"] == 4
    await create("after resync")
    assert seqs(await stream.events(1)) == [5]
    await stream.close()


async def test_heartbeat_comments(demo, settings):
    settings.LIVEBOARD_SSE_HEARTBEAT = 0.1
    stream = await open_stream()
    events = await stream.events(3, comments=True)
    assert events[0]["event"] == "joined"
    assert [e.get("comment") for e in events[1:]] == ["heartbeat", "heartbeat"]
    await stream.close()


async def test_permissions(users):
    for path, headers, status in [
        ("/boards/nope/events", [], 404),
        ("/boards/board-2/events", [], 403),  # anonymous, private board
        ("/boards/board-2/events", [(b"cookie", await sync_to_async(session_cookie)(users["bob"]))], 403),
        ("/boards/board-2/events", [(b"authorization", b"Token nope")], 401),
    ]:
        req = await open_stream(path, headers=headers)
        got, body = await req.response()
        assert got == status, (path, body)
        await req.close()
    assert not await group_members("board.board-2")

    carol = [(b"cookie", await sync_to_async(session_cookie)(users["carol"]))]
    stream = await open_stream("/boards/board-2/events", headers=carol)
    assert (await stream.events(1))[0]["data"]["seq"] == 1
    await stream.close()

    token = await sync_to_async(lambda: Token.objects.get_or_create(user=users["carol"])[0].key)()
    stream = await open_stream("/boards/board-2/events", headers=[(b"authorization", f"Token {token}".encode())])
    assert (await stream.events(1))[0]["event"] == "joined"
    await stream.close()

    req = await open_stream(headers=[(b"last-event-id", b"abc")])
    assert (await req.response())[0] == 400
    await req.close()


async def test_losing_access_ends_the_stream(users):
    carol = [(b"cookie", await sync_to_async(session_cookie)(users["carol"]))]
    stream = await open_stream("/boards/board-2/events", headers=carol)
    await stream.events(1)
    await sync_to_async(lambda: Membership.objects.filter(user=users["carol"]).delete())()
    removed, error = await stream.events(2)  # the room hears member_removed; carol is then out
    assert removed["event"] == "member_removed" and removed["data"]["user"]["name"] == "carol"
    assert error["event"] == "error" and error["data"]["code"] == "forbidden"
    while not stream.complete:
        await stream._next(3)
    assert not await group_members("board.board-2")
    await stream.close()


async def test_event_committed_during_the_join_is_sent_once(demo):
    """Committed before the stream reads the seq, broadcast after it joined the group."""
    committed, release = threading.Event(), threading.Event()
    holder = asyncio.ensure_future(in_thread(commit_and_hold_broadcast, committed, release, "racing"))
    assert await asyncio.to_thread(committed.wait, 5)
    stream = await open_stream(headers=[(b"last-event-id", b"4")])
    joined, replayed = await stream.events(2)
    assert joined["data"]["seq"] == 5 and seqs([replayed]) == [5]
    release.set()
    await holder  # the live frame of seq 5 has now been delivered to the stream — and dropped
    await create("next")
    assert seqs(await stream.events(1)) == [6]
    await asyncio.sleep(0.1)
    assert not await stream.has_output()
    await stream.close()


async def test_stream_fills_a_lost_frame_from_the_log(demo, settings):
    """A frame the layer never delivered (here: the stream was briefly out of the group)."""
    isolated_layer(settings)
    settings.LIVEBOARD_SSE_HEARTBEAT = 0.2
    stream = await open_stream()
    await stream.events(1)
    (channel,) = await group_members("board.board-1")
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    await layer.group_discard("board.board-1", channel)
    await create("lost live")  # seq 5: never reaches the stream
    await layer.group_add("board.board-1", channel)
    await create("arrives live")  # seq 6 arrives with a gap before it: 5 comes from the log first
    events = await stream.events(2)
    assert seqs(events) == [5, 6]
    assert [e["data"]["task"]["title"] for e in events] == ["lost live", "arrives live"]

    # The last event of a quiet board is lost: the next heartbeat notices it.
    await layer.group_discard("board.board-1", channel)
    await create("lost and quiet")
    await layer.group_add("board.board-1", channel)
    (event,) = await stream.events(1, timeout=3)
    assert event["id"] == "7" and event["data"]["task"]["title"] == "lost and quiet"
    await stream.close()


# --- over a real daphne -------------------------------------------------------------


@pytest.fixture
def server(demo):
    with run_daphne(LIVEBOARD_SSE_HEARTBEAT=0.3) as srv:
        yield srv


def _token(username):
    user = get_user_model().objects.get(username=username)
    return Token.objects.get_or_create(user=user)[0].key


def test_sse_stream_and_last_event_id_resume_over_daphne(server):
    bob = {"Authorization": f"Token {_token('bob')}"}

    def post(title):
        status, body = http_json(server.http_url, "POST", "/api/tasks/", {"title": title, "listId": "list-todo"}, bob)
        assert status == 201, body
        return body["seq"]

    stream = SSEStream(server.http_url, STREAM)
    assert stream.status == 200 and stream.headers["content-type"].startswith("text/event-stream")
    joined = stream.next()
    assert joined["event"] == "joined" and joined["id"] == "4"
    assert [post("one"), post("two")] == [5, 6]
    got = [stream.next(), stream.next()]
    assert seqs(got) == [5, 6] and [e["data"]["task"]["title"] for e in got] == ["one", "two"]
    comment = stream.next(timeout=3, comments=True)
    assert comment.get("comment") == "heartbeat"
    stream.close()

    post("three")
    post("four")  # missed while disconnected
    resumed = SSEStream(server.http_url, STREAM, headers={"Last-Event-ID": got[-1]["id"]})
    assert resumed.next()["event"] == "joined"
    replay = [resumed.next(), resumed.next()]
    assert seqs(replay) == [7, 8] and [e["data"]["task"]["title"] for e in replay] == ["three", "four"]
    post("five")
    assert seqs([resumed.next()]) == [9]
    resumed.close()

    # The page is still Django's; a private board refuses strangers.
    status, _ = http_json(server.http_url, "GET", "/boards/board-1/")
    assert status == 200
    refused = SSEStream(server.http_url, "/boards/board-2/events")
    assert refused.status == 403 and refused.body["code"] == "forbidden"
    carol = get_user_model().objects.get(username="carol")
    private = SSEStream(server.http_url, "/boards/board-2/events", headers={"Cookie": session_cookie(carol).decode()})
    assert private.status == 200 and private.next()["data"]["seq"] == 1
    private.close()


def test_long_poll_over_daphne_does_not_hold_a_thread(server):
    """Long polls wait on the event loop: sync Django views keep answering meanwhile."""
    results = []

    def long_poll():
        started = time.monotonic()
        status, body = http_json(server.http_url, "GET", "/api/boards/board-1/events?since=4&wait=5")
        results.append((status, body, time.monotonic() - started))

    pollers = [threading.Thread(target=long_poll) for _ in range(4)]
    for t in pollers:
        t.start()
    time.sleep(0.5)
    started = time.monotonic()
    status, boards = http_json(server.http_url, "GET", "/api/boards/")
    assert status == 200 and [b["id"] for b in boards] == ["board-1"]
    assert time.monotonic() - started < 2.5, "a sync view waited behind the long polls"
    assert not results

    bob = {"Authorization": f"Token {_token('bob')}"}
    status, created = http_json(server.http_url, "POST", "/api/tasks/", {"title": "wake", "listId": "list-todo"}, bob)
    assert status == 201
    for t in pollers:
        t.join(5)
    assert len(results) == 4
    for status, body, took in results:
        assert status == 200 and [e["seq"] for e in body["events"]] == [5] and took < 4

    started = time.monotonic()
    status, body = http_json(server.http_url, "GET", "/api/boards/board-1/events?since=5&wait=0.5")
    assert (status, body) == (200, {"events": [], "seq": 5})
    assert 0.4 < time.monotonic() - started < 3


async def test_a_deleted_board_ends_its_streams_with_board_deleted(users):
    stream = await open_stream()
    await stream.events(1)
    await sync_to_async(lambda: Board.objects.get(slug="board-1").delete())()
    (gone,) = await stream.events(1)
    assert gone["event"] == "board_deleted" and gone["data"] == {"type": "board_deleted", "boardId": "board-1", "actor": None}
    while not stream.complete:
        await stream._next(3)
    assert not await group_members("board.board-1")
    await stream.close()
