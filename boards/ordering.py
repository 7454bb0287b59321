"""
Keeping task positions 0..n-1 inside each list.

A move is "take the task out of its list, insert it at `position` of the
target list". Neighbours are renumbered with queryset updates (no signals,
no version bump): clients replay the same insert locally, so only the moved
task needs an event. Callers hold the board row lock (Task.save).
"""

from django.db.models import F


def _clamp(position, upper):
    if position is None or position > upper:
        return upper
    return max(0, position)


def place_task(task, *, new):
    """Set `task.position` to a valid index and open/close the gaps around it."""
    from .models import Task

    siblings = Task.objects.filter(list_id=task.list_id)
    if not new:
        saved = task._saved_state
        # Close the hole the task leaves in its old list.
        Task.objects.filter(list_id=saved["list_id"], position__gt=saved["position"]).exclude(
            pk=task.pk
        ).update(position=F("position") - 1)
        siblings = siblings.exclude(pk=task.pk)
    count = siblings.count()
    task.position = _clamp(task.position, count)  # None (not given) appends
    # Open a hole at the target index.
    siblings.filter(position__gte=task.position).update(position=F("position") + 1)


def close_gap(list_id, position):
    """After a delete: pull up the tasks below the removed one."""
    from .models import Task

    Task.objects.filter(list_id=list_id, position__gt=position).update(position=F("position") - 1)
