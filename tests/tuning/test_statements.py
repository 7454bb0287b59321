"""boards.tuning.statements: statements compiled once answer exactly as their QuerySets do."""

import datetime

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.db.transaction import TransactionManagementError

from boards.models import Board, Task
from boards.permissions import with_role
from boards.tuning.statements import CompiledQuery, CompiledUpdate

pytestmark = pytest.mark.django_db(transaction=True)


def tasks_of(list_id, above):
    return Task.objects.filter(list_id=list_id, position__gt=above).order_by("position")


TASKS_OF = CompiledQuery(lambda list_id, above: tasks_of(list_id, above).values_list("pk", "title", "created"), str, int)


def test_a_compiled_query_answers_as_its_queryset_for_any_parameters(demo):
    for list_id in ("list-todo", "list-doing", "list-done", "no-such-list"):
        for above in (-1, 0, 1, 5):  # -1: out of a position's range, where the ORM drops the condition
            expected = list(tasks_of(list_id, above).values_list("pk", "title", "created"))
            assert TASKS_OF.rows(list_id, above) == expected
    # Rows come back through the ORM's converters (SQLite stores datetimes as text).
    assert all(isinstance(created, datetime.datetime) for _, _, created in TASKS_OF.rows("list-todo", -1))


def test_the_role_annotation_binds_the_user_and_none_matches_no_membership(users):
    role_on = CompiledQuery(
        lambda user_id, board_id: with_role(Board.objects.filter(pk=board_id), user_id).values_list("slug", "user_role"),
        int, int,
    )
    board = Board.objects.get(slug="board-1")
    for name, role in (("alice", "owner"), ("bob", "editor")):
        assert role_on.rows(users[name].pk, board.pk) == [("board-1", role)]
    assert role_on.rows(None, board.pk) == [("board-1", None)]  # anonymous


def test_a_parameter_the_sql_lost_is_refused_at_compile_time(demo):
    ignores_one = CompiledQuery(lambda list_id, unused: Task.objects.filter(list_id=list_id).values_list("pk"), str, int)
    with pytest.raises(ImproperlyConfigured, match="appears 0 times"):
        ignores_one.rows("list-todo", 1)
    with pytest.raises(TypeError, match="expected 2 parameters"):
        TASKS_OF.rows("list-todo")


def test_a_compiled_update_changes_what_queryset_update_would(demo):
    shift = CompiledUpdate(
        lambda list_id, above: (Task.objects.filter(list_id=list_id, position__gt=above), {"position": F("position") + 10}),
        str, int,
    )
    before = dict(Task.objects.filter(list_id="list-todo").values_list("pk", "position"))
    with transaction.atomic():
        changed = shift.run("list-todo", 0)
    after = dict(Task.objects.filter(list_id="list-todo").values_list("pk", "position"))
    assert changed == sum(1 for p in before.values() if p > 0) > 0
    assert after == {pk: p + 10 if p > 0 else p for pk, p in before.items()}


def test_a_failed_statement_marks_the_transaction_for_rollback_as_the_orm_does(demo):
    below_zero = CompiledUpdate(
        lambda list_id: (Task.objects.filter(list_id=list_id), {"position": F("position") - 1_000}), str
    )
    before = list(Task.objects.order_by("pk").values_list("pk", "position"))
    with transaction.atomic():
        with pytest.raises(IntegrityError):
            below_zero.run("list-todo")  # positions are unsigned: a CHECK constraint fails
        assert connection.needs_rollback
    assert list(Task.objects.order_by("pk").values_list("pk", "position")) == before


def test_a_locking_query_needs_a_transaction_where_the_database_locks(demo):
    locked = CompiledQuery(lambda pk: Board.objects.select_for_update().filter(pk=pk).values_list("slug"), int)
    board = Board.objects.get(slug="board-1")
    with transaction.atomic():
        assert locked.rows(board.pk) == [("board-1",)]
    if connection.features.has_select_for_update:
        with pytest.raises(TransactionManagementError):
            locked.rows(board.pk)
    else:  # SQLite: no FOR UPDATE, as the ORM itself does there
        assert locked.rows(board.pk) == [("board-1",)]


def test_an_out_of_range_task_id_is_not_found_on_every_door(users, client):
    client.force_login(users["bob"])
    for task_id in (2**53 + 1, 10**30):
        response = client.patch(f"/api/tasks/{task_id}/", {"title": "x"}, content_type="application/json")
        assert response.status_code == 404, response.content
