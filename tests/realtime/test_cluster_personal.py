"""
SPEC §11 across two real daphne processes sharing one Redis and one
database: announcements, notifications and read marks, direct messages,
the end of a user's sessions, presence status and editing marks each made
on one process (or a third: a `manage.py` command) and seen on the other.
"""

import asyncio
import json

import pytest

from boards.models import Task
from tests.realtime.test_cluster import Client, cluster, http, token  # noqa: F401  (cluster: the fixture)
from tests.support.servers import manage

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis]


def on(server):
    return {"REDIS_URL": server.env["REDIS_URL"], "LIVEBOARD_REDIS_PREFIX": server.env["LIVEBOARD_REDIS_PREFIX"]}


async def until(client, kind, timeout=5):
    frames = await client.frames_until(lambda f: f["type"] == kind, timeout=timeout)
    return frames[-1]


async def test_an_announcement_from_a_command_reaches_every_socket_on_both_processes(cluster):
    (a, b), _, _ = cluster
    clients = [await Client.open(a), await Client.open(b, "bob"), await Client.open(a, "alice"), await Client.open(b)]
    await clients[0].join()  # joined or not, anonymous or not
    done = await asyncio.to_thread(manage, "announce", "Back in 5", "--level", "critical", check=True, **on(a))
    ann_id = int(done.stdout.strip())
    for client in clients:
        frame = await until(client, "announcement")
        assert (frame["id"], frame["text"], frame["level"]) == (ann_id, "Back in 5", "critical")
    for client in clients:
        await client.quiet(0.3)  # exactly once
    status, body = await asyncio.to_thread(http, b, "GET", "/api/announcements/")
    assert [x["id"] for x in body["announcements"]] == [ann_id]


async def test_notifications_and_read_marks_reach_the_users_sockets_on_every_process(cluster):
    (a, b), _, _ = cluster
    bob_a, bob_b, alice_b = await Client.open(a, "bob"), await Client.open(b, "bob"), await Client.open(b, "alice")
    key = await token(a, "alice")
    status, task = await asyncio.to_thread(
        http, a, "POST", "/api/tasks/", {"title": "For bob", "listId": "list-todo", "assignee": "bob"}, key)
    assert status == 201
    notes = [(await until(c, "notification"))["notification"] for c in (bob_a, bob_b)]
    assert notes[0] == notes[1] and (notes[0]["kind"], notes[0]["taskId"]) == ("assigned", task["id"])
    ack = await bob_b.request(type="read_notifications", ids=[notes[0]["id"]])
    assert ack["type"] == "ack" and ack["unread"] == 0
    frame = await until(bob_a, "notifications_read")
    assert frame == {"type": "notifications_read", "ids": [notes[0]["id"]], "unread": 0}
    # A direct message sent on B reaches bob's socket on A (and B), nobody else.
    ack = await alice_b.request(type="direct", to="bob", text="see the card?")
    for client in (bob_a, bob_b):
        note = (await until(client, "notification"))["notification"]
        assert (note["id"], note["kind"], note["text"], note["actor"]["name"]) == (ack["notificationId"], "message", "see the card?", "alice")
    await alice_b.quiet(0.3)


async def test_deactivating_a_user_in_a_third_process_closes_their_sockets_on_both_within_2s(cluster):
    (a, b), _, _ = cluster
    bobs = [await Client.open(a, "bob"), await Client.open(b, "bob")]
    alice = await Client.open(a, "alice")
    await alice.join()
    for client in bobs:
        await client.join()
    await alice.frames_until(lambda f: f["type"] == "user_joined" and f["viewers"] == 3)
    await asyncio.to_thread(
        manage, "shell", "-c",
        "from django.contrib.auth.models import User; u = User.objects.get(username='bob'); u.is_active = False; u.save()",
        check=True, **on(a),
    )
    started = asyncio.get_running_loop().time()
    for client in bobs:
        frames = await client.frames_until(lambda f: f["type"] == "error", timeout=2)
        assert frames[-1]["code"] == "forbidden" and "boardId" not in frames[-1]
        await asyncio.wait_for(client.ws.wait_closed(), 2)
        assert client.ws.close_code == 4401
    assert asyncio.get_running_loop().time() - started < 2
    lefts = [f for f in await alice.frames_until(lambda f: f.get("viewers") == 1) if f["type"] == "user_left"]
    assert lefts[-1]["viewers"] == 1
    # Their session is gone: a new socket with the old cookie is anonymous.
    again = await Client.open(b, "bob")
    joined = await again.join()
    assert [u["name"] for u in joined["users"]] == ["alice"]


async def test_a_status_change_on_one_process_reaches_the_other(cluster):
    (a, b), _, _ = cluster
    alice, bob = await Client.open(a, "alice"), await Client.open(b, "bob")
    await alice.join()
    await bob.join()
    await until(alice, "user_joined")
    assert (await bob.request(type="status", status="away"))["status"] == "away"
    frame = await until(alice, "status_changed")
    assert (frame["boardId"], frame["user"]["name"], frame["user"]["status"]) == ("board-1", "bob", "away")
    late = await Client.open(a)
    users = {u["name"]: u for u in (await late.join())["users"]}
    assert users["bob"]["status"] == "away" and users["alice"]["status"] == "active"
    assert users["bob"]["lastSeen"] == frame["user"]["lastSeen"]


async def test_an_editing_mark_on_one_process_shows_on_the_other_and_goes_when_its_socket_drops(cluster):
    (a, b), _, _ = cluster
    alice, bob = await Client.open(a, "alice"), await Client.open(b, "bob")
    await alice.join()
    await bob.join()
    await until(alice, "user_joined")
    task = await asyncio.to_thread(lambda: Task.objects.filter(list_id="list-todo").first().pk)
    assert (await bob.request(type="editing", taskId=task, editing=True))["editing"] is True
    frame = await until(alice, "editing")
    assert (frame["taskId"], frame["user"]["name"], frame["editing"]) == (task, "bob", True)
    late = await Client.open(a)
    assert [(m["taskId"], m["user"]["name"]) for m in (await late.join())["editing"]] == [(task, "bob")]
    await bob.close()
    frame = await until(alice, "editing")
    assert (frame["taskId"], frame["editing"]) == (task, False)
    again = await Client.open(a)
    assert (await again.join())["editing"] == []
