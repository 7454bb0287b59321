"""create / move / update / delete over the socket: ack to the sender, event to the others."""

import pytest
from asgiref.sync import sync_to_async

from boards import services
from boards.models import Board, BoardEvent, Membership, Task
from tests.support.api import actor
from tests.support.wsclient import join, nothing, send

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def room(connect):
    """alice (owner) and bob (editor) on board-1, presence frames drained."""
    alice = await connect("alice")
    bob = await connect("bob")
    await join(alice)
    await join(bob)
    assert (await alice.receive_json_from(timeout=2))["type"] == "user_joined"
    return alice, bob


def positions(list_id):
    return list(Task.objects.filter(list_id=list_id).order_by("position").values_list("title", "position"))


async def test_create_task_acks_sender_and_reaches_the_others(room):
    alice, bob = room
    ack = await send(alice, type="create_task", boardId="board-1", listId="list-doing", title="Ship it", ref="c1")
    assert ack["type"] == "ack"
    assert ack["ref"] == "c1"
    assert ack["seq"] == 5
    task = ack["task"]
    assert task == {
        "id": task["id"], "listId": "list-doing", "title": "Ship it",
        "description": "", "position": 1, "version": 1, "assignee": None,
    }
    event = await bob.receive_json_from(timeout=2)
    assert event == {"type": "task_created", "boardId": "board-1", "seq": 5, "task": task, "actor": actor("alice")}
    await nothing(alice)  # the sender is not echoed its own broadcast


async def test_create_at_position_shifts_the_list(room):
    alice, bob = room
    ack = await send(alice, type="create_task", boardId="board-1", listId="list-todo", title="First!", position=0)
    assert ack["task"]["position"] == 0
    assert await sync_to_async(positions)("list-todo") == [
        ("First!", 0), ("Write the README", 1), ("Try it with wscat", 2),
    ]


async def test_move_task_between_lists(room):
    alice, bob = room
    task = await sync_to_async(Task.objects.get)(title="Write the README")
    ack = await send(bob, type="move_task", taskId=task.pk, listId="list-done", position=0, version=1, ref="m")
    assert ack["type"] == "ack" and ack["ref"] == "m" and ack["seq"] == 5
    assert ack["task"]["listId"] == "list-done"
    assert ack["task"]["position"] == 0
    assert ack["task"]["version"] == 2
    event = await alice.receive_json_from(timeout=2)
    assert event == {"type": "task_moved", "boardId": "board-1", "seq": 5, "task": ack["task"], "actor": actor("bob")}
    await nothing(bob)
    assert await sync_to_async(positions)("list-todo") == [("Try it with wscat", 0)]
    assert await sync_to_async(positions)("list-done") == [("Write the README", 0), ("Run manage.py demo", 1)]


async def test_move_within_a_list_and_past_the_end(room):
    alice, bob = room
    task = await sync_to_async(Task.objects.get)(title="Write the README")
    ack = await send(bob, type="move_task", taskId=task.pk, listId="list-todo", position=99)
    assert ack["task"]["position"] == 1  # clamped to the end
    assert await sync_to_async(positions)("list-todo") == [("Try it with wscat", 0), ("Write the README", 1)]
    assert (await alice.receive_json_from(timeout=2))["type"] == "task_moved"


async def test_update_task_is_task_updated(room):
    alice, bob = room
    task = await sync_to_async(Task.objects.get)(title="Write the README")
    ack = await send(alice, type="update_task", taskId=task.pk, title="Write the docs", description="all of them")
    assert ack["task"]["title"] == "Write the docs"
    assert ack["task"]["description"] == "all of them"
    assert ack["task"]["version"] == 2
    event = await bob.receive_json_from(timeout=2)
    assert event["type"] == "task_updated"
    assert event["task"] == ack["task"]


async def test_delete_task(room):
    alice, bob = room
    task = await sync_to_async(Task.objects.get)(title="Write the README")
    ack = await send(bob, type="delete_task", taskId=task.pk, ref="d")
    assert ack == {"type": "ack", "ref": "d", "boardId": "board-1", "seq": 5, "taskId": task.pk}
    assert await alice.receive_json_from(timeout=2) == {
        "type": "task_deleted", "boardId": "board-1", "seq": 5, "taskId": task.pk, "actor": actor("bob"),
    }
    await nothing(bob)
    assert await sync_to_async(positions)("list-todo") == [("Try it with wscat", 0)]


async def test_stale_version_is_a_conflict_and_changes_nothing(room):
    alice, bob = room
    task = await sync_to_async(Task.objects.get)(title="Write the README")
    await send(alice, type="update_task", taskId=task.pk, title="v2")
    await bob.receive_json_from(timeout=2)
    reply = await send(bob, type="move_task", taskId=task.pk, listId="list-done", position=0, version=1, ref="old")
    assert reply["type"] == "error" and reply["code"] == "conflict" and reply["ref"] == "old"
    assert reply["task"]["version"] == 2 and reply["task"]["listId"] == "list-todo"
    await nothing(alice)
    assert await sync_to_async(BoardEvent.objects.filter(board__slug="board-1").count)() == 5


@pytest.mark.parametrize(
    "frame, code",
    [
        ({"type": "create_task", "boardId": "board-1", "listId": "list-todo", "title": ""}, "bad_request"),
        ({"type": "create_task", "boardId": "board-1", "listId": "list-todo", "title": "x" * 201}, "bad_request"),
        ({"type": "create_task", "boardId": "board-1", "listId": "list-todo", "title": 42}, "bad_request"),
        ({"type": "create_task", "boardId": "board-1", "listId": "list-todo", "title": "t", "position": -1}, "bad_request"),
        ({"type": "create_task", "boardId": "board-1", "listId": "list-todo", "title": "t", "position": "1"}, "bad_request"),
        ({"type": "create_task", "boardId": "board-1", "listId": "list-todo", "title": "t", "position": True}, "bad_request"),
        ({"type": "create_task", "boardId": "board-1", "listId": "list-todo", "title": "t", "description": "d" * 10_001}, "bad_request"),
        ({"type": "create_task", "boardId": "board-1", "listId": "nope", "title": "t"}, "not_found"),
        ({"type": "create_task", "boardId": "board-1", "listId": "b2-todo", "title": "t"}, "bad_request"),
        ({"type": "create_task", "boardId": "nope", "listId": "list-todo", "title": "t"}, "not_found"),
        ({"type": "create_task", "listId": "list-todo", "title": "t"}, "bad_request"),
        ({"type": "move_task", "taskId": 999999, "listId": "list-todo", "position": 0}, "not_found"),
        ({"type": "move_task", "taskId": "1", "listId": "list-todo", "position": 0}, "bad_request"),
        ({"type": "move_task", "taskId": "TASK", "listId": "b2-todo", "position": 0}, "bad_request"),
        ({"type": "move_task", "taskId": "TASK", "listId": "list-todo"}, "bad_request"),
        ({"type": "move_task", "taskId": "TASK", "listId": "list-todo", "position": 2**40}, "bad_request"),
        ({"type": "update_task", "taskId": "TASK"}, "bad_request"),
        ({"type": "update_task", "taskId": "TASK", "title": None}, "bad_request"),
        ({"type": "update_task", "taskId": "TASK", "title": "\ud800"}, "bad_request"),
        ({"type": "update_task", "taskId": "TASK", "listId": "list-done"}, "bad_request"),
        ({"type": "delete_task"}, "bad_request"),
        ({"type": "delete_task", "taskId": 10**30}, "bad_request"),
        ({"type": "delete_task", "taskId": 999999}, "not_found"),
        ({"type": "delete_task", "taskId": "PRIVATE"}, "forbidden"),  # carol's private board
    ],
)
async def test_bad_changes_are_refused_and_change_nothing(room, frame, code):
    alice, bob = room
    ids = {
        "TASK": (await sync_to_async(Task.objects.get)(title="Write the README")).pk,
        "PRIVATE": (await sync_to_async(Task.objects.get)(title="Plan the quarter")).pk,
    }
    frame = {k: ids.get(v, v) if isinstance(v, str) else v for k, v in frame.items()}
    before = await sync_to_async(lambda: list(Task.objects.order_by("pk").values()))()
    reply = await send(alice, ref="bad", **frame)
    assert reply["type"] == "error", reply
    assert reply["code"] == code, reply
    assert reply["ref"] == "bad"
    await nothing(bob)
    after = await sync_to_async(lambda: list(Task.objects.order_by("pk").values()))()
    assert after == before
    assert await sync_to_async(BoardEvent.objects.count)() == 5


async def test_anonymous_and_viewers_may_watch_but_not_change(connect, users):
    board = await sync_to_async(Board.objects.get)(slug="board-1")
    await sync_to_async(Membership.objects.create)(user=users["carol"], board=board, role="viewer")
    anon = await connect(None)
    carol = await connect("carol")
    for comm in (anon, carol):
        await join(comm)
        reply = await send(comm, type="create_task", boardId="board-1", listId="list-todo", title="nope")
        assert reply["code"] == "forbidden"
        task = await sync_to_async(Task.objects.get)(title="Write the README")
        reply = await send(comm, type="delete_task", taskId=task.pk)
        assert reply["code"] == "forbidden"
    assert await sync_to_async(Task.objects.count)() == 5


async def test_mutation_without_joining_still_acks_and_broadcasts(connect):
    alice = await connect("alice")
    watcher = await connect(None)
    await join(watcher)
    ack = await send(alice, type="create_task", boardId="board-1", listId="list-todo", title="drive-by")
    assert ack["type"] == "ack"
    assert (await watcher.receive_json_from(timeout=2))["seq"] == ack["seq"]


async def test_seqs_are_gap_free_across_mixed_changes(room):
    alice, bob = room
    seqs = []
    for i in range(5):
        ack = await send(alice, type="create_task", boardId="board-1", listId="list-todo", title=f"t{i}")
        seqs.append(ack["seq"])
        assert (await bob.receive_json_from(timeout=2))["seq"] == ack["seq"]
        ack = await send(bob, type="move_task", taskId=ack["task"]["id"], listId="list-done", position=0)
        seqs.append(ack["seq"])
        assert (await alice.receive_json_from(timeout=2))["seq"] == ack["seq"]
    assert seqs == list(range(5, 15))
    stored = await sync_to_async(lambda: list(BoardEvent.objects.filter(board__slug="board-1").values_list("seq", flat=True)))()
    assert stored == list(range(1, 15))


@pytest.mark.parametrize(
    "change, budget",
    [
        # BEGIN, lock the board (+ the editor's role), lock the task, UPDATE
        # it, next seq, the event row, COMMIT. Every query is a round trip
        # on the fan-out path (BENCHMARKS.md), so a new one should be a choice.
        (lambda bob, task: services.change_task(bob, task.pk, {"title": "x"}), 7),
        (lambda bob, task: services.change_task(bob, task.pk, {"position": 1}), 10),  # + close gap, count, open gap
        (lambda bob, task: services.create_task(bob, {"listId": task.list_id, "title": "n"}), 9),
        (lambda bob, task: services.delete_task(bob, task.pk), 8),
    ],
    ids=["update", "move", "create", "delete"],
)
def test_a_change_costs_a_fixed_number_of_queries(users, change, budget, django_assert_max_num_queries):
    bob = users["bob"]
    task = Task.objects.filter(list_id="list-todo").order_by("position").first()
    with django_assert_max_num_queries(budget):
        change(bob, task)
