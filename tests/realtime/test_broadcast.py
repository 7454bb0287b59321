"""
The event path: any change → seq + log row in its transaction → on_commit →
group_send → every viewer of that board (and only that board).
"""

import pytest
from asgiref.sync import sync_to_async
from django.db import transaction
from rest_framework.test import APIClient

from boards import eventlog as events
from boards.models import Board, BoardEvent, List, Task
from tests.support.wsclient import join, nothing, send

pytestmark = pytest.mark.django_db(transaction=True)


def rest_create(username, **body):
    client = APIClient()
    client.login(username=username, password="liveboard-demo")
    return client.post("/api/tasks/", body, format="json")


async def test_seed_scenario_rest_create_reaches_exactly_board_1(connect):
    """Two viewers on board-1, one on board-2; a REST create reaches the two."""
    v1 = await connect(None)
    v2 = await connect("bob")
    other = await connect("carol")
    await join(v1)
    await join(v2)
    await join(other, board="board-2")
    await v1.receive_json_from(timeout=2)  # bob's user_joined

    response = await sync_to_async(rest_create)("alice", title="From curl", listId="list-todo")
    assert response.status_code == 201, response.content
    body = response.json()
    for viewer in (v1, v2):
        frame = await viewer.receive_json_from(timeout=2)
        assert frame["type"] == "task_created"
        assert frame["boardId"] == "board-1"
        assert frame["seq"] == body["seq"] == 5
        assert frame["task"]["title"] == "From curl"
        assert frame["task"]["id"] == body["id"]
    await nothing(other)


def _create_then_fail():
    with transaction.atomic():
        Task.objects.create(list_id="list-todo", title="doomed")
        raise RuntimeError("boom")


async def test_rolled_back_change_sends_nothing_and_leaves_no_trace(connect):
    viewer = await connect(None)
    await join(viewer)
    with pytest.raises(RuntimeError):
        await sync_to_async(_create_then_fail)()
    await nothing(viewer, timeout=0.3)
    assert not await sync_to_async(Task.objects.filter(title="doomed").exists)()
    board = await sync_to_async(Board.objects.get)(slug="board-1")
    assert board.last_seq == 4
    assert await sync_to_async(BoardEvent.objects.filter(board=board).count)() == 4
    # the next change takes the next seq: no gap was burnt by the rollback
    response = await sync_to_async(rest_create)("alice", title="kept", listId="list-todo")
    assert (await viewer.receive_json_from(timeout=2))["seq"] == response.json()["seq"] == 5


def _nested_rollback():
    """An inner savepoint rolls back; the outer transaction commits."""
    with transaction.atomic():
        Task.objects.create(list_id="list-todo", title="kept")
        try:
            with transaction.atomic():
                Task.objects.create(list_id="list-todo", title="undone")
                raise RuntimeError
        except RuntimeError:
            pass


async def test_savepoint_rollback_announces_only_what_committed(connect):
    viewer = await connect(None)
    await join(viewer)
    await sync_to_async(_nested_rollback)()
    frame = await viewer.receive_json_from(timeout=2)
    assert frame["task"]["title"] == "kept"
    assert frame["seq"] == 5
    await nothing(viewer, timeout=0.3)
    # The savepoint's seq 6 was rolled back with it: the log stays gap-free.
    seqs = await sync_to_async(lambda: list(BoardEvent.objects.filter(board__slug="board-1").values_list("seq", flat=True)))()
    assert seqs == [1, 2, 3, 4, 5]
    assert (await sync_to_async(Board.objects.get)(slug="board-1")).last_seq == 5


def _shell_edit():
    task = Task.objects.get(title="Write the README")
    task.title = "Edited in a shell"
    task.save()
    return task


async def test_plain_orm_save_reaches_every_viewer(connect):
    """A change with no socket behind it (shell, management command) has no sender."""
    alice = await connect("alice")
    bob = await connect("bob")
    await join(alice)
    await join(bob)
    await alice.receive_json_from(timeout=2)
    task = await sync_to_async(_shell_edit)()
    for viewer in (alice, bob):
        frame = await viewer.receive_json_from(timeout=2)
        assert frame["type"] == "task_updated"
        assert frame["task"]["title"] == "Edited in a shell"
        assert frame["task"]["version"] == task.version == 2


async def test_save_without_change_sends_nothing(connect):
    viewer = await connect(None)
    await join(viewer)
    await sync_to_async(lambda: Task.objects.get(title="Write the README").save())()
    await nothing(viewer, timeout=0.3)


async def test_queryset_delete_of_a_list_announces_each_task(connect):
    viewer = await connect(None)
    await join(viewer)
    ids = await sync_to_async(lambda: list(Task.objects.filter(list_id="list-todo").values_list("pk", flat=True)))()
    await sync_to_async(lambda: List.objects.filter(pk="list-todo").delete())()
    got = sorted([(await viewer.receive_json_from(timeout=2))["taskId"] for _ in ids])
    assert got == sorted(ids)


async def test_deleting_a_board_does_not_break(connect):
    await sync_to_async(lambda: Board.objects.get(slug="board-1").delete())()
    assert not await sync_to_async(Task.objects.filter(list__board__slug="board-1").exists)()
    assert not await sync_to_async(BoardEvent.objects.filter(board__slug="board-1").exists)()


async def test_events_must_be_recorded_inside_a_transaction(demo):
    with pytest.raises(RuntimeError):
        await sync_to_async(events.record)(1, "task_created")


async def test_join_with_since_replays_the_missed_events_in_order(connect):
    alice = await connect("alice")
    await join(alice)
    for i in range(3):
        await send(alice, type="create_task", boardId="board-1", listId="list-todo", title=f"t{i}")
    late = await connect(None)
    joined = await join(late, since=4)
    assert joined["seq"] == 7
    replayed = [await late.receive_json_from(timeout=2) for _ in range(3)]
    assert [f["seq"] for f in replayed] == [5, 6, 7]
    assert [f["task"]["title"] for f in replayed] == ["t0", "t1", "t2"]
    await nothing(late)


async def test_replay_carries_the_task_as_it_was(connect):
    alice = await connect("alice")
    ack = await send(alice, type="create_task", boardId="board-1", listId="list-todo", title="old title")
    await send(alice, type="update_task", taskId=ack["task"]["id"], title="new title")
    viewer = await connect(None)
    await join(viewer, since=4)
    first = await viewer.receive_json_from(timeout=2)
    second = await viewer.receive_json_from(timeout=2)
    assert (first["task"]["title"], first["task"]["version"]) == ("old title", 1)
    assert (second["task"]["title"], second["task"]["version"]) == ("new title", 2)


@pytest.mark.parametrize("since, expect", [(4, []), (0, [1, 2, 3, 4]), (2, [3, 4])])
async def test_join_since_edges(connect, since, expect):
    viewer = await connect(None)
    await join(viewer, since=since)
    got = [(await viewer.receive_json_from(timeout=2))["seq"] for _ in expect]
    assert got == expect
    await nothing(viewer)


async def test_join_since_in_the_future_or_pruned_asks_for_resync(connect):
    viewer = await connect(None)
    await join(viewer, since=99, ref="j")
    frame = await viewer.receive_json_from(timeout=2)
    assert frame["type"] == "resync_required" and frame["boardId"] == "board-1" and frame["ref"] == "j"
    await sync_to_async(lambda: BoardEvent.objects.filter(seq__lte=2).delete())()
    other = await connect(None)
    await join(other, since=1)
    assert (await other.receive_json_from(timeout=2))["type"] == "resync_required"
