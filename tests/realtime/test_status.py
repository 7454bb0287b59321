"""
Presence status and editing marks (SPEC §11) through the real consumer:
frames to the others, the combined status of a user's tabs, `joined`'s
entries, coalescing on busy boards, a mark's life (refresh, false, TTL,
leave, drop, task deleted), and bad input refused with nothing sent.
"""

import asyncio

import pytest
from asgiref.sync import sync_to_async

from boards.models import BoardEvent, Task
from tests.support.api import client_for
from tests.support.wsclient import join, nothing, request, send

pytestmark = pytest.mark.django_db(transaction=True)


async def drain(comm, timeout=0.2):
    frames = []
    while not await comm.receive_nothing(timeout=timeout):
        frames.append(await comm.receive_json_from())
    return frames


async def room(connect, *names):
    comms = []
    for name in names:
        comm = await connect(name)
        await join(comm)
        comms.append(comm)
    for comm in comms:
        await drain(comm)
    return comms


def a_task():
    return Task.objects.filter(list_id="list-todo").order_by("position").first().pk


# --- status ----------------------------------------------------------------------------


async def test_a_status_change_reaches_the_others_and_shows_in_joined(connect, users):
    alice, bob = await room(connect, "alice", "bob")
    ack = await send(bob, type="status", status="away", ref="s")
    assert ack == {"type": "ack", "status": "away", "ref": "s"}
    frame = await alice.receive_json_from(timeout=2)
    assert frame == {"type": "status_changed", "boardId": "board-1",
                     "user": {"id": users["bob"].pk, "name": "bob", "status": "away", "lastSeen": frame["user"]["lastSeen"]}}
    assert frame["user"]["lastSeen"].endswith("Z")
    await nothing(bob)
    late = await connect()
    entries = {u["name"]: u for u in (await join(late))["users"]}
    assert (entries["alice"]["status"], entries["bob"]["status"]) == ("active", "away")
    assert entries["bob"]["lastSeen"] == frame["user"]["lastSeen"]
    # Saying it again changes nothing and tells no one.
    await drain(alice)
    await drain(bob)
    assert (await send(bob, type="status", status="away"))["type"] == "ack"
    await nothing(alice)


async def test_a_user_is_active_while_any_of_their_tabs_is(connect, users):
    alice, tab1, tab2 = await room(connect, "alice", "bob", "bob")
    await send(tab1, type="status", status="away")
    await nothing(alice)  # tab2 is still active
    await send(tab2, type="status", status="away")
    assert (await alice.receive_json_from(timeout=2))["user"]["status"] == "away"
    await send(tab1, type="status", status="active")
    assert (await alice.receive_json_from(timeout=2))["user"]["status"] == "active"
    # The active tab leaves; the one left is away: bob is away now.
    assert (await request(tab1, type="leave", boardId="board-1"))["type"] == "left"
    frames = await drain(alice)
    assert [f["type"] for f in frames] == ["user_left", "status_changed"]
    assert frames[1]["user"]["status"] == "away"


async def test_bad_status_frames_are_refused_and_nothing_is_sent(connect, users):
    alice, bob = await room(connect, "alice", "bob")
    anon = await connect()
    await join(anon)
    await drain(alice)
    await drain(bob)
    for frame in ({"status": "sleeping"}, {"status": 1}, {"status": ["away"]}, {}, {"status": "away", "x": 1}):
        reply = await send(bob, type="status", **frame)
        assert reply["code"] == "bad_request", (frame, reply)
    assert (await send(anon, type="status", status="away"))["code"] == "forbidden"
    await nothing(alice)
    assert {u["name"]: u["status"] for u in (await join(alice))["users"]} == {"alice": "active", "bob": "active"}


async def test_on_a_busy_board_status_changes_ride_the_coalesced_presence_frame(connect, users, settings):
    settings.LIVEBOARD_PRESENCE_COALESCE_THRESHOLD = 2
    settings.LIVEBOARD_PRESENCE_INTERVAL = 0.2
    alice, bob, carol = await room(connect, "alice", "bob", "carol")
    await asyncio.sleep(0.4)
    await drain(alice)
    await send(bob, type="status", status="away")
    await send(bob, type="status", status="active")
    await send(carol, type="status", status="away")
    await asyncio.sleep(0.4)
    frames = await drain(alice)
    assert [f["type"] for f in frames] == ["presence"]
    assert {u["name"]: u["status"] for u in frames[0]["changed"]} == {"bob": "active", "carol": "away"}


# --- editing marks ------------------------------------------------------------------------


async def test_an_editing_mark_reaches_the_others_and_joined_until_it_is_cleared(connect, users):
    alice, bob = await room(connect, "alice", "bob")
    task = await sync_to_async(a_task)()
    events = await sync_to_async(BoardEvent.objects.count)()
    ack = await send(bob, type="editing", taskId=task, editing=True, ref="e")
    assert ack == {"type": "ack", "taskId": task, "editing": True, "ref": "e"}
    bob_user = {"id": users["bob"].pk, "name": "bob"}
    assert await alice.receive_json_from(timeout=2) == {
        "type": "editing", "boardId": "board-1", "taskId": task, "user": bob_user, "editing": True}
    late = await connect()
    assert (await join(late))["editing"] == [{"taskId": task, "user": bob_user}]
    await drain(alice)
    await drain(bob)
    await send(bob, type="editing", taskId=task, editing=True)  # a refresh: no one hears it
    await nothing(alice)
    await send(bob, type="editing", taskId=task, editing=False)
    assert (await alice.receive_json_from(timeout=2))["editing"] is False
    assert (await join(alice))["editing"] == []
    # Ephemeral: no seq, no event, nothing to replay.
    assert await sync_to_async(BoardEvent.objects.count)() == events
    reply = await request(await connect(), type="join", boardId="board-1", since=0)
    assert reply["type"] == "joined"


@pytest.mark.parametrize("how", ["ttl", "leave", "disconnect", "task_deleted"])
async def test_an_editing_mark_ends_with_its_ttl_its_connection_or_its_task(connect, users, settings, how):
    settings.LIVEBOARD_EDITING_TTL = 0.5 if how == "ttl" else 30
    alice, bob = await room(connect, "alice", "bob")
    task = await sync_to_async(a_task)()
    await send(bob, type="editing", taskId=task, editing=True)
    assert (await alice.receive_json_from(timeout=2))["editing"] is True
    if how == "leave":
        await request(bob, type="leave", boardId="board-1")
    elif how == "disconnect":
        await bob.disconnect()
    elif how == "task_deleted":
        api = await sync_to_async(client_for)(users["alice"])
        assert (await sync_to_async(api.delete)(f"/api/tasks/{task}/")).status_code == 204
    frames = await drain(alice, timeout=1.0)
    marks = [f for f in frames if f["type"] == "editing"]
    assert [(f["taskId"], f["user"]["name"], f["editing"]) for f in marks] == [(task, "bob", False)]
    assert (await join(alice))["editing"] == []


async def test_bad_editing_frames_are_refused_and_nothing_is_sent(connect, users):
    alice, bob = await room(connect, "alice", "bob")
    carol = await connect("carol")  # board-1 is public: carol may watch, not edit
    await join(carol)
    anon = await connect()
    await join(anon)
    idle = await connect("bob")  # not joined
    for comm in (alice, bob, carol):
        await drain(comm)
    task = await sync_to_async(a_task)()
    private = await sync_to_async(lambda: Task.objects.filter(list_id="b2-todo").first().pk)()
    cases = [
        (bob, {"taskId": str(task), "editing": True}, "bad_request"),
        (bob, {"taskId": task, "editing": "yes"}, "bad_request"),
        (bob, {"taskId": task}, "bad_request"),
        (bob, {"taskId": 0, "editing": True}, "bad_request"),
        (bob, {"taskId": 999999, "editing": True}, "not_found"),
        (bob, {"taskId": private, "editing": True}, "forbidden"),
        (carol, {"taskId": task, "editing": True}, "forbidden"),
        (anon, {"taskId": task, "editing": True}, "forbidden"),
        (idle, {"taskId": task, "editing": True}, "not_joined"),
    ]
    for comm, frame, code in cases:
        reply = await send(comm, type="editing", ref="x", **frame)
        assert (reply["type"], reply.get("code"), reply.get("ref")) == ("error", code, "x"), (frame, reply)
    await nothing(alice)
    assert (await join(alice))["editing"] == []


# --- the same in scaled mode: statuses and marks in Redis (Lua scripts) -----------------


@pytest.mark.redis
async def test_in_redis_a_user_is_active_while_any_of_their_tabs_is(redis_mode, connect, users):
    await test_a_user_is_active_while_any_of_their_tabs_is(connect, users)


@pytest.mark.redis
async def test_in_redis_a_status_change_reaches_the_others_and_shows_in_joined(redis_mode, connect, users):
    await test_a_status_change_reaches_the_others_and_shows_in_joined(connect, users)


@pytest.mark.redis
@pytest.mark.parametrize("how", ["ttl", "leave", "task_deleted"])
async def test_in_redis_an_editing_mark_ends_with_its_ttl_its_connection_or_its_task(redis_mode, connect, users, settings, how):
    await test_an_editing_mark_ends_with_its_ttl_its_connection_or_its_task(connect, users, settings, how)


@pytest.mark.redis
async def test_in_redis_a_swept_process_takes_its_statuses_along(redis_mode, users):
    """A dead process's away connection must not leave its user away (or counted) forever."""
    from django.conf import settings as conf

    from boards.realtime.presence.redis_store import RedisPresence

    def store():
        return RedisPresence(conf.LIVEBOARD_REDIS_HOST, prefix=conf.LIVEBOARD_REDIS_PREFIX, ttl=0.2, sweep_interval=0.1)

    dead, alive = store(), store()
    bob = {"id": 7, "name": "bob"}
    await dead.add("b", "c-dead", bob)
    await alive.add("b", "c-alive", bob, "away")
    _, changed, entry, _, viewers = await dead.set_status("b", "c-dead", "away")
    assert (changed, entry["status"], viewers) == (True, "away", 2)
    _, changed, entry, _, _ = await dead.set_status("b", "c-dead", "active")
    assert (changed, entry["status"]) == (True, "active")
    await dead.close()
    await asyncio.sleep(0.3)
    await alive.sweep()  # (or its own heartbeat task already did)
    (only,) = (await alive.state("b")).users
    assert (only["name"], only["status"]) == ("bob", "away")  # the dead tab's "active" went with it
    await alive.remove("b", "c-alive")
    keys = [k async for k in alive.redis.scan_iter(match=f"{conf.LIVEBOARD_REDIS_PREFIX}:presence:b:u*")]
    assert keys == []
    await alive.close()
