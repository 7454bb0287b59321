"""
Keeping task positions 0..n-1 inside each list.

A move is "take the task out of its list, insert it at `position` of the
target list". Neighbours are renumbered with queryset updates (no signals,
no version bump): clients replay the same insert locally, so only the moved
task needs an event. Callers hold the board row lock (Task.save).
"""

from django.apps import apps
from django.db import router
from django.db.models import Count, F

from .tuning.statements import CompiledQuery, CompiledUpdate


def _tasks():
    """Task's manager, through the app registry: Task.save() calls this module,
    so importing boards.models here would make the two import each other."""
    return apps.get_model("boards", "Task").objects


# The statements of a move, compiled once (boards/tuning/statements.py): every REST
# or socket move runs them.
_CLOSE_GAP = CompiledUpdate(  # list_id, position, moved task (0: none)
    lambda list_id, position, task_id: (
        _tasks().filter(list_id=list_id, position__gt=position).exclude(pk=task_id),
        {"position": F("position") - 1},
    ),
    str, int, int,
)
_OPEN_GAP = CompiledUpdate(  # list_id, position, moved task
    lambda list_id, position, task_id: (
        _tasks().filter(list_id=list_id, position__gte=position).exclude(pk=task_id),
        {"position": F("position") + 1},
    ),
    str, int, int,
)
_COUNT_OTHERS = CompiledQuery(  # tasks of list_id but task_id
    lambda list_id, task_id: _tasks().filter(list_id=list_id)
    .exclude(pk=task_id)
    .order_by()
    .values("list_id")
    .annotate(count=Count("pk"))
    .values_list("count"),
    str, int,
)


def _clamp(position, upper):
    if position is None or position > upper:
        return upper
    return max(0, position)


def place_task(task, *, new):
    """Set `task.position` to a valid index and open/close the gaps around it."""
    using = router.db_for_write(type(task))
    other = 0 if new else task.pk  # 0 matches no task: nothing to leave out
    if not new:
        saved = task._saved_state
        # Close the hole the task leaves in its old list.
        _CLOSE_GAP.run(saved["list_id"], saved["position"], task.pk, using=using)
    rows = _COUNT_OTHERS.rows(task.list_id, other, using=using)
    task.position = _clamp(task.position, rows[0][0] if rows else 0)  # None (not given) appends
    # Open a hole at the target index.
    _OPEN_GAP.run(task.list_id, task.position, other, using=using)


def close_gap(list_id, position):
    """After a delete: pull up the tasks below the removed one."""
    _CLOSE_GAP.run(list_id, position, 0, using=router.db_for_write(apps.get_model("boards", "Task")))


# --- columns: positions 0..n-1 per board -----------------------------------------
# Plain ORM statements: a column change is rare next to task changes.


def _lists():
    return apps.get_model("boards", "List").objects


def place_list(lst, *, new):
    """Set `lst.position` to a valid index among its board's columns and shift the others."""
    others = _lists().filter(board_id=lst.board_id).exclude(pk=lst.pk)
    if not new:
        old = lst._saved_state["position"]
        others.filter(position__gt=old).update(position=F("position") - 1)
    lst.position = _clamp(lst.position, others.count())
    others.filter(position__gte=lst.position).update(position=F("position") + 1)


def close_list_gap(board_id, position):
    """After a column is deleted: shift the columns right of it one to the left."""
    _lists().filter(board_id=board_id, position__gt=position).update(position=F("position") - 1)
