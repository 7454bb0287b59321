"""
SPEC §11 on one process, through the real consumer: announcements to every
socket, the personal channel (notifications of every kind, read marks
shared by a user's tabs, direct messages) and ending a user's sessions —
with bad input refused and nothing stored or sent.
"""

import asyncio
import io

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core.management import CommandError, call_command
from django.db import transaction
from rest_framework.authtoken.models import Token

from boards import eventlog
from boards.models import Announcement, Board, Membership, Notification, Task
from tests.support.api import actor, client_for
from tests.support.wsclient import join, nothing, request, send
from tests.test_admin import demo_admin

pytestmark = pytest.mark.django_db(transaction=True)


async def frame_of(comm, kind, timeout=3):
    frame = await comm.receive_json_from(timeout=timeout)
    assert frame["type"] == kind, frame
    return frame


def user(name):
    return get_user_model().objects.get(username=name)


def count(model, **lookup):
    return model.objects.filter(**lookup).count()


@pytest.fixture
def quiet_demo(users):
    """The demo's own memberships notified alice/bob/carol at setup; start from none."""
    Notification.objects.all().delete()
    return users


# --- announcements --------------------------------------------------------------------


async def test_an_announcement_reaches_every_open_socket_joined_or_not_anonymous_or_not(connect, quiet_demo):
    alice, anon, idle = await connect("alice"), await connect(), await connect("bob")
    await join(anon)
    await join(alice)
    await drain(anon)  # user_joined alice
    out = io.StringIO()
    await sync_to_async(call_command)("announce", "Deploy at 5", "--level", "warning", stdout=out)
    ann = await sync_to_async(Announcement.objects.get)()
    assert out.getvalue().strip() == str(ann.pk)
    for comm in (alice, anon, idle):
        frame = await frame_of(comm, "announcement")
        assert frame == {"type": "announcement", "id": ann.pk, "text": "Deploy at 5", "level": "warning",
                         "sentAt": frame["sentAt"]}
        assert frame["sentAt"].endswith("Z")
        await nothing(comm)  # exactly once


async def test_an_announcement_saved_in_the_admin_is_sent_and_editing_it_later_is_not(connect, quiet_demo):
    anon = await connect()

    def add():
        client = demo_admin()
        return client.post("/admin/boards/announcement/add/", {"text": "From the admin", "level": "info", "_save": "Save"})

    assert (await sync_to_async(add)()).status_code == 302
    assert (await frame_of(anon, "announcement"))["text"] == "From the admin"
    ann = await sync_to_async(Announcement.objects.get)()
    assert ann.created_by_id == (await sync_to_async(user)("admin")).pk
    ann.text = "edited"
    await sync_to_async(ann.save)()
    await nothing(anon)


async def test_bad_or_rolled_back_announcements_store_and_send_nothing(connect, quiet_demo):
    anon = await connect()
    for args in (["announce", ""], ["announce", "x" * 501], ["announce", "hi", "--level", "loud"]):
        with pytest.raises((CommandError, SystemExit)):
            await sync_to_async(call_command)(*args, stderr=io.StringIO())

    def rolled_back():
        with pytest.raises(RuntimeError), transaction.atomic():
            Announcement.objects.create(text="never")
            raise RuntimeError

    await sync_to_async(rolled_back)()
    assert await sync_to_async(count)(Announcement) == 0
    await nothing(anon)


# --- notifications ---------------------------------------------------------------------


async def test_membership_changes_notify_the_member_on_every_socket_and_no_one_else(connect, quiet_demo):
    bob1, bob2, alice = await connect("bob"), await connect("bob"), await connect("alice")
    carol_api = await sync_to_async(client_for)(await sync_to_async(user)("carol"))

    resp = await sync_to_async(carol_api.post)("/api/boards/board-2/members/", {"username": "bob", "role": "viewer"}, format="json")
    assert resp.status_code == 201
    for comm in (bob1, bob2):
        note = (await frame_of(comm, "notification"))["notification"]
        assert note == {
            "id": note["id"], "kind": "added_to_board", "text": note["text"],
            "boardId": "board-2", "taskId": None, "actor": actor("carol"), "createdAt": note["createdAt"], "read": False,
        }
        assert note["text"].startswith("carol added you to") and note["text"].endswith("as viewer")
    resp = await sync_to_async(carol_api.patch)("/api/boards/board-2/members/bob/", {"role": "editor"}, format="json")
    assert resp.status_code == 200
    for comm in (bob1, bob2):
        note = (await frame_of(comm, "notification"))["notification"]
        assert (note["kind"], note["text"].endswith("to editor")) == ("role_changed", True)
    assert (await sync_to_async(carol_api.delete)("/api/boards/board-2/members/bob/")).status_code == 204
    for comm in (bob1, bob2):
        assert (await frame_of(comm, "notification"))["notification"]["kind"] == "removed_from_board"
    await nothing(alice)
    assert await sync_to_async(count)(Notification, user__username="bob") == 3
    assert await sync_to_async(count)(Notification) == 3


async def test_a_membership_added_in_the_admin_notifies_with_the_admin_as_actor(connect, quiet_demo):
    carol = await connect("carol")

    def add():
        from tests.test_admin import admin_add

        board = Board.objects.get(slug="board-1")
        return admin_add(demo_admin(), "membership", user=user("carol").pk, board=board.pk, role="viewer").status_code

    assert await sync_to_async(add)() == 302
    note = (await frame_of(carol, "notification"))["notification"]
    assert (note["kind"], note["actor"], note["boardId"]) == ("added_to_board", actor("admin"), "board-1")


async def test_nobody_is_notified_of_their_own_action(connect, quiet_demo):
    bob = await connect("bob")
    bob_api = await sync_to_async(client_for)(await sync_to_async(user)("bob"))
    ack = await request(bob, type="create_task", boardId="board-1", listId="list-todo", title="Mine @bob", assignee="bob")
    assert ack["type"] == "ack"
    assert (await sync_to_async(bob_api.delete)("/api/boards/board-1/members/bob/")).status_code == 204
    await asyncio.sleep(0.2)
    assert [f for f in await drain(bob) if f["type"] == "notification"] == []
    assert await sync_to_async(count)(Notification) == 0


async def drain(comm, timeout=0.2):
    frames = []
    while not await comm.receive_nothing(timeout=timeout):
        frames.append(await comm.receive_json_from())
    return frames


async def test_assigning_a_task_notifies_the_assignee(connect, quiet_demo):
    alice, bob = await connect("alice"), await connect("bob")
    ack = await request(alice, type="create_task", boardId="board-1", listId="list-todo", title="Review", assignee="bob")
    note = (await frame_of(bob, "notification"))["notification"]
    assert (note["kind"], note["taskId"], note["boardId"], note["actor"]) == ("assigned", ack["task"]["id"], "board-1", actor("alice"))
    assert "Review" in note["text"]
    # Saving it again without changing the assignee notifies no one.
    await request(alice, type="update_task", taskId=ack["task"]["id"], title="Review it")
    await nothing(bob)


async def test_a_new_mention_notifies_who_may_see_the_board_once(connect, quiet_demo):
    alice, bob, carol = await connect("alice"), await connect("bob"), await connect("carol")
    ack = await request(alice, type="create_task", boardId="board-1", listId="list-todo", title="Ask @bob.")
    note = (await frame_of(bob, "notification"))["notification"]
    assert (note["kind"], note["taskId"], note["actor"]) == ("mentioned", ack["task"]["id"], actor("alice"))
    # Still there after an edit: not new, no second notification; carol (board-1 is public) is new.
    await request(alice, type="update_task", taskId=ack["task"]["id"], description="and @carol, @nobody, mail@bob.com")
    assert (await frame_of(carol, "notification"))["notification"]["kind"] == "mentioned"
    await nothing(bob)
    # A private board: bob is no member of board-2, so carol's mention tells him nothing.
    await request(carol, type="create_task", boardId="board-2", listId="b2-todo", title="Secret for @bob")
    await nothing(bob)
    assert await sync_to_async(count)(Notification) == 2


async def test_a_rolled_back_change_notifies_no_one(connect, quiet_demo):
    bob = await connect("bob")

    def rolled_back():
        with pytest.raises(RuntimeError), transaction.atomic(), eventlog.acting_user(user("carol")):
            Membership.objects.create(user=user("bob"), board=Board.objects.get(slug="board-2"))
            raise RuntimeError

    await sync_to_async(rolled_back)()
    await nothing(bob, timeout=0.4)
    assert await sync_to_async(count)(Notification) == 0


# --- reading them ------------------------------------------------------------------------


def three_for_bob():
    alice = user("alice")
    with eventlog.acting_user(alice):
        for title in ("one", "two", "three"):
            Task.objects.create(list_id="list-todo", title=title, assignee=user("bob"))
    return list(Notification.objects.filter(user__username="bob").order_by("id").values_list("pk", flat=True))


async def test_read_notifications_acks_the_unread_count_and_tells_the_users_other_sockets(connect, quiet_demo):
    tab1, tab2, alice = await connect("bob"), await connect("bob"), await connect("alice")
    ids = await sync_to_async(three_for_bob)()
    for comm in (tab1, tab2):
        assert [(await frame_of(comm, "notification"))["notification"]["id"] for _ in ids] == ids
    ack = await send(tab1, type="read_notifications", ids=ids[:2], ref="r")
    assert ack == {"type": "ack", "unread": 1, "ref": "r"}
    assert await frame_of(tab2, "notifications_read") == {"type": "notifications_read", "ids": ids[:2], "unread": 1}
    await nothing(tab1)
    # Again: nothing changes, nothing is sent.
    assert (await send(tab1, type="read_notifications", ids=ids[:2]))["unread"] == 1
    await nothing(tab2)
    assert (await send(tab2, type="read_notifications", all=True))["unread"] == 0
    assert await frame_of(tab1, "notifications_read") == {"type": "notifications_read", "ids": "all", "unread": 0}
    await nothing(alice)


async def test_bad_read_requests_are_refused_and_change_nothing(connect, quiet_demo):
    bob, anon, alice = await connect("bob"), await connect(), await connect("alice")
    ids = await sync_to_async(three_for_bob)()
    await drain(bob)
    for frame in ({"ids": "1"}, {"ids": [0]}, {"ids": ["1"]}, {"ids": [True]}, {"all": False}, {"all": 1},
                  {}, {"ids": [ids[0]], "all": True}, {"ids": list(range(1, 1002))}, {"ids": [1], "extra": 1}):
        reply = await send(bob, type="read_notifications", **frame)
        assert reply["code"] == "bad_request", (frame, reply)
    assert (await send(anon, type="read_notifications", all=True))["code"] == "forbidden"
    # alice marking bob's notifications: not hers, nothing changes.
    assert (await send(alice, type="read_notifications", ids=ids))["unread"] == 0
    await nothing(bob)
    assert await sync_to_async(count)(Notification, read=False) == 3


# --- direct messages -------------------------------------------------------------------------


async def test_a_direct_message_reaches_every_socket_of_the_recipient(connect, quiet_demo):
    alice, bob1, bob2 = await connect("alice"), await connect("bob"), await connect("bob")
    ack = await send(alice, type="direct", to="bob", text="lunch? 🍜", ref="dm")
    assert ack == {"type": "ack", "notificationId": ack["notificationId"], "ref": "dm"}
    for comm in (bob1, bob2):
        note = (await frame_of(comm, "notification"))["notification"]
        assert note == {"id": ack["notificationId"], "kind": "message", "text": "lunch? 🍜", "boardId": None,
                        "taskId": None, "actor": actor("alice"), "createdAt": note["createdAt"], "read": False}
    await nothing(alice)


async def test_bad_direct_messages_are_refused_and_nothing_is_stored_or_sent(connect, quiet_demo):
    alice, anon, bob, carol = await connect("alice"), await connect(), await connect("bob"), await connect("carol")
    cases = [
        (alice, {"to": "carol", "text": "hi"}, "forbidden"),  # no common board
        (alice, {"to": "nobody", "text": "hi"}, "not_found"),
        (alice, {"to": "alice", "text": "hi"}, "bad_request"),
        (alice, {"to": "bob", "text": ""}, "bad_request"),
        (alice, {"to": "bob", "text": "   "}, "bad_request"),
        (alice, {"to": "bob", "text": "x" * 2001}, "bad_request"),
        (alice, {"to": "bob", "text": 5}, "bad_request"),
        (alice, {"to": ["bob"], "text": "hi"}, "bad_request"),
        (alice, {"text": "hi"}, "bad_request"),
        (alice, {"to": "bob", "text": "hi", "cc": "carol"}, "bad_request"),
        (anon, {"to": "bob", "text": "hi"}, "forbidden"),
    ]
    for comm, frame, code in cases:
        reply = await send(comm, type="direct", ref="x", **frame)
        assert (reply["type"], reply["code"], reply["ref"]) == ("error", code, "x"), (frame, reply)
    assert (await send(alice, type="direct", to="bob", text="x" * 2000))["type"] == "ack"  # the limit itself is fine
    assert (await frame_of(bob, "notification"))["notification"]["kind"] == "message"
    await nothing(bob)
    await nothing(carol)
    assert await sync_to_async(count)(Notification) == 1


@pytest.mark.parametrize("kind", ["status", "editing", "direct"])
async def test_status_editing_and_direct_are_rate_limited(connect, quiet_demo, settings, kind):
    settings.LIVEBOARD_RATE_LIMIT, settings.LIVEBOARD_RATE_BURST = 0.01, 2
    alice, bob = await connect("alice"), await connect("bob")
    await join(alice)  # the first token
    task = await sync_to_async(Task.objects.filter(list_id="list-todo").first)()
    frame = {"status": {"type": "status", "status": "away"},
             "editing": {"type": "editing", "taskId": task.pk, "editing": True},
             "direct": {"type": "direct", "to": "bob", "text": "hi"}}[kind]
    assert (await send(alice, **frame))["type"] == "ack"  # the second
    assert (await send(alice, **frame))["code"] == "rate_limited"
    if kind == "direct":
        assert (await frame_of(bob, "notification"))["notification"]["kind"] == "message"
    await nothing(bob)  # the refused one was not sent
    assert await sync_to_async(count)(Notification) == (1 if kind == "direct" else 0)


# --- ending a user's sessions ------------------------------------------------------------------


async def closed_4401(comm):
    frame = await comm.receive_json_from(timeout=2)
    while frame["type"] == "member_removed":  # a deleted user's memberships go first
        frame = await comm.receive_json_from(timeout=2)
    assert frame == {"type": "error", "code": "forbidden", "error": "Your session has ended; log in again"}
    assert await comm.receive_output(timeout=2) == {"type": "websocket.close", "code": 4401}


def sessions_of(name):
    uid = str(user(name).pk)
    return sum(1 for s in Session.objects.all() if s.get_decoded().get("_auth_user_id") == uid)


@pytest.mark.parametrize("how", ["deactivate", "log_out_everywhere", "admin_action", "delete"])
async def test_ending_a_users_sessions_closes_every_socket_of_theirs_with_4401(connect, quiet_demo, how):
    bob1, bob2, alice = await connect("bob"), await connect("bob"), await connect("alice")
    await join(bob1)
    await join(alice)
    await drain(bob1)  # user_joined alice
    await sync_to_async(Token.objects.get_or_create)(user=await sync_to_async(user)("bob"))
    assert await sync_to_async(sessions_of)("bob") >= 2

    def end():
        bob = user("bob")
        if how == "deactivate":
            bob.is_active = False
            bob.save()
        elif how == "log_out_everywhere":
            from boards.accounts import log_out_everywhere

            log_out_everywhere(bob)
        elif how == "admin_action":
            resp = demo_admin().post("/admin/auth/user/", {"action": "log_out_everywhere", "_selected_action": [bob.pk]})
            assert resp.status_code == 302
        else:
            bob.delete()

    await sync_to_async(end)()
    for comm in (bob1, bob2):
        await closed_4401(comm)
    left = await alice.receive_json_from(timeout=2)
    if how == "delete":
        assert (left["type"], left["user"]["name"]) == ("member_removed", "bob")
        left = await alice.receive_json_from(timeout=2)
    assert (left["type"], left["user"]["name"]) == ("user_left", "bob")
    if how != "delete":
        assert await sync_to_async(sessions_of)("bob") == 0
        assert await sync_to_async(count)(Token, user__username="bob") == 0
    assert (await send(alice, type="ping"))["type"] == "pong"  # alice is untouched


async def test_ending_a_users_sessions_ends_their_sse_streams(quiet_demo):
    from tests.conftest import session_cookie
    from tests.support.httpclient import AsgiHttp, group_members

    cookie = [(b"cookie", await sync_to_async(session_cookie)(await sync_to_async(user)("bob")))]
    stream = await AsgiHttp("/boards/board-1/events", "", cookie).start()
    other = await AsgiHttp("/boards/board-1/events", "", []).start()  # anonymous: untouched
    await stream.events(1)
    await other.events(1)
    from boards.accounts import log_out_everywhere

    await sync_to_async(lambda: log_out_everywhere(user("bob")))()
    (error,) = await stream.events(1)
    assert error["event"] == "error" and error["data"]["code"] == "forbidden"
    while not stream.complete:
        await stream._next(2)
    assert not await group_members(f"user.{(await sync_to_async(user)('bob')).pk}")
    assert not other.complete
    await stream.close()
    await other.close()
