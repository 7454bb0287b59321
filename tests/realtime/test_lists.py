"""Columns over the socket (SPEC §12): ack to the sender, list_* events to the
others in the board's one seq, replayed with `since`; bad input changes nothing."""

import pytest
from asgiref.sync import sync_to_async

from boards.models import List, Task
from tests.support.api import actor, board_state
from tests.support.wsclient import join, nothing, send

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def room(connect):
    """alice (owner) and bob (editor) on board-1, presence frames drained."""
    alice, bob = await connect("alice"), await connect("bob")
    await join(alice)
    await join(bob)
    assert (await alice.receive_json_from(timeout=2))["type"] == "user_joined"
    return alice, bob


def columns(board="board-1"):
    return list(List.objects.filter(board__slug=board).order_by("position").values_list("name", "position"))


async def test_create_list_acks_the_sender_and_reaches_the_others_with_a_server_made_id(room):
    alice, bob = room
    ack = await send(alice, type="create_list", boardId="board-1", name="Review", position=1, ref="l1")
    assert (ack["type"], ack["ref"], ack["boardId"], ack["seq"]) == ("ack", "l1", "board-1", 5)
    made = ack["list"]
    assert made["name"] == "Review" and made["position"] == 1 and made["id"].startswith("list-")
    assert await bob.receive_json_from(timeout=2) == {
        "type": "list_created", "boardId": "board-1", "seq": 5, "list": made, "actor": actor("alice"),
    }
    await nothing(alice)  # no echo of our own change
    assert await sync_to_async(columns)() == [("To do", 0), ("Review", 1), ("Doing", 2), ("Done", 3)]


async def test_rename_move_and_delete_a_column_are_events_in_one_seq(room):
    alice, bob = room
    made = (await send(bob, type="create_list", boardId="board-1", name="Later"))["list"]
    assert made["position"] == 3  # no position: appended
    await alice.receive_json_from(timeout=2)

    ack = await send(bob, type="update_list", listId=made["id"], name="Someday", ref="u")
    assert ack["list"] == {"id": made["id"], "name": "Someday", "position": 3} and ack["seq"] == 6
    frame = await alice.receive_json_from(timeout=2)
    assert (frame["type"], frame["seq"], frame["list"]["name"]) == ("list_updated", 6, "Someday")

    ack = await send(bob, type="move_list", listId=made["id"], position=0)
    assert ack["list"]["position"] == 0 and ack["seq"] == 7
    frame = await alice.receive_json_from(timeout=2)
    assert (frame["type"], frame["list"]) == ("list_moved", {"id": made["id"], "name": "Someday", "position": 0})
    assert await sync_to_async(columns)() == [("Someday", 0), ("To do", 1), ("Doing", 2), ("Done", 3)]

    ack = await send(bob, type="delete_list", listId=made["id"], ref="d")
    assert ack == {"type": "ack", "ref": "d", "boardId": "board-1", "seq": 8, "listId": made["id"]}
    assert await alice.receive_json_from(timeout=2) == {
        "type": "list_deleted", "boardId": "board-1", "seq": 8, "listId": made["id"], "actor": actor("bob"),
    }
    assert await sync_to_async(columns)() == [("To do", 0), ("Doing", 1), ("Done", 2)]
    await nothing(bob)


async def test_a_column_with_tasks_is_not_deleted(room):
    alice, _ = room
    before = await sync_to_async(board_state)()
    reply = await send(alice, type="delete_list", listId="list-todo", ref="x")
    assert (reply["type"], reply["code"], reply["ref"]) == ("error", "bad_request", "x")
    assert "still has 2 tasks" in reply["error"]
    assert await sync_to_async(board_state)() == before


@pytest.mark.parametrize(
    "frame, code",
    [
        ({"type": "create_list", "boardId": "board-1", "name": ""}, "bad_request"),
        ({"type": "create_list", "boardId": "board-1", "name": "x" * 101}, "bad_request"),
        ({"type": "create_list", "boardId": "board-1", "name": 5}, "bad_request"),
        ({"type": "create_list", "boardId": "board-1"}, "bad_request"),
        ({"type": "create_list", "boardId": "board-404", "name": "x"}, "not_found"),
        ({"type": "create_list", "boardId": "board-2", "name": "x"}, "forbidden"),
        ({"type": "update_list", "listId": "list-404", "name": "x"}, "not_found"),
        ({"type": "update_list", "listId": "list-todo", "name": ""}, "bad_request"),
        ({"type": "update_list", "listId": "list-todo", "name": "x", "board": 1}, "bad_request"),
        ({"type": "move_list", "listId": "list-todo", "position": -1}, "bad_request"),
        ({"type": "move_list", "listId": "list-todo", "position": "1"}, "bad_request"),
        ({"type": "move_list", "listId": "b2-todo", "position": 0}, "forbidden"),
        ({"type": "delete_list", "listId": "list-404"}, "not_found"),
        ({"type": "delete_list"}, "bad_request"),
    ],
)
async def test_bad_column_requests_get_a_clear_error_and_change_nothing(room, frame, code):
    alice, bob = room
    before = await sync_to_async(board_state)()
    reply = await send(alice, **frame, ref="bad")
    assert (reply["type"], reply["code"], reply["ref"]) == ("error", code, "bad"), reply
    assert await sync_to_async(board_state)() == before
    await nothing(bob)


async def test_a_viewer_may_not_change_columns(connect, users):
    comm = await connect("carol")  # no role on board-1: read-only
    await join(comm)
    reply = await send(comm, type="create_list", boardId="board-1", name="nope")
    assert reply["code"] == "forbidden"


async def test_list_events_are_replayed_with_since_in_order_with_task_events(room, connect):
    alice, bob = room
    made = (await send(alice, type="create_list", boardId="board-1", name="Review"))["list"]
    await send(alice, type="create_task", boardId="board-1", listId=made["id"], title="Read it")
    await send(alice, type="update_list", listId=made["id"], name="Reviewed")
    late = await connect("bob")
    joined = await join(late, since=4)
    assert joined["seq"] == 7
    replay = [await late.receive_json_from(timeout=2) for _ in range(3)]
    assert [(f["type"], f["seq"]) for f in replay] == [("list_created", 5), ("task_created", 6), ("list_updated", 7)]
    assert replay[0]["list"]["name"] == "Review"  # as it was then
    assert all(f["actor"] == actor("alice") for f in replay)


async def test_assignee_is_set_changed_and_cleared_over_the_socket(room):
    alice, bob = room
    ack = await send(alice, type="create_task", boardId="board-1", listId="list-todo", title="Pair", assignee="bob")
    assert ack["task"]["assignee"] == {"id": ack["task"]["assignee"]["id"], "name": "bob"}
    frame = await bob.receive_json_from(timeout=2)
    assert frame["task"]["assignee"]["name"] == "bob"
    assert (await bob.receive_json_from(timeout=2))["notification"]["kind"] == "assigned"  # SPEC §11

    task_id = ack["task"]["id"]
    ack = await send(bob, type="update_task", taskId=task_id, assignee="alice")
    assert ack["task"]["assignee"]["name"] == "alice" and ack["task"]["version"] == 2
    frame = await alice.receive_json_from(timeout=2)
    assert (frame["type"], frame["task"]["assignee"]["name"]) == ("task_updated", "alice")
    assert (await alice.receive_json_from(timeout=2))["notification"]["kind"] == "assigned"

    ack = await send(bob, type="update_task", taskId=task_id, assignee=None)
    assert ack["task"]["assignee"] is None
    assert (await alice.receive_json_from(timeout=2))["task"]["assignee"] is None


async def test_only_a_member_of_the_board_may_be_assigned(room):
    alice, bob = room
    task = await sync_to_async(Task.objects.get)(title="Write the README")
    before = await sync_to_async(board_state)()
    for who in ("carol", "nobody-here"):  # carol: not a member of board-1; nobody: no such user
        reply = await send(alice, type="update_task", taskId=task.pk, assignee=who)
        assert (reply["type"], reply["code"]) == ("error", "bad_request"), reply
        assert "not a member" in reply["error"]
    reply = await send(alice, type="update_task", taskId=task.pk, assignee=7)
    assert reply["code"] == "bad_request"
    assert await sync_to_async(board_state)() == before
    await nothing(bob)
