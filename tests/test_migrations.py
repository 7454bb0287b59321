"""Migrations keep existing boards and events valid (SPEC §12): an event
logged before `actor` existed replays with `"actor": null`, columns are
numbered 0..n-1, and the log keeps each frame as text in the live key order."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("boards", "0001_initial")]
AFTER = [("boards", "0003_event_frames_as_sent")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_old_events_replay_with_a_null_actor_and_columns_are_renumbered():
    old = migrate(BEFORE)
    try:
        Board, List, BoardEvent = (old.get_model("boards", name) for name in ("Board", "List", "BoardEvent"))
        board = Board.objects.create(slug="old-board", name="Old", last_seq=1)
        List.objects.create(id="old-a", board=board, name="A", position=5)
        List.objects.create(id="old-b", board=board, name="B", position=9)
        frame = {"type": "task_deleted", "boardId": "old-board", "seq": 1, "taskId": 7}
        BoardEvent.objects.create(board=board, seq=1, type="task_deleted", payload=frame)

        new = migrate(AFTER)
        event = new.get_model("boards", "BoardEvent").objects.get(board__slug="old-board")
        # The text a replay sends: the live frame's keys in the live order, actor last.
        assert event.frame == '{"type":"task_deleted","boardId":"old-board","seq":1,"taskId":7,"actor":null}'
        assert event.details == {}
        lists = new.get_model("boards", "List").objects.filter(board__slug="old-board").order_by("position")
        assert list(lists.values_list("id", "position")) == [("old-a", 0), ("old-b", 1)]
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
