"""
Model signals → board events.

Every saved or deleted Task becomes a `task_*` event, whoever saved it.
Task.save()/delete() and Django's deletion collector run these handlers
inside the changing transaction (see boards/events.py).
"""

from django.db.models import QuerySet
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from . import events, ordering, wire
from .models import Board, Task


@receiver(post_save, sender=Task, dispatch_uid="liveboard_task_saved")
def task_saved(sender, instance, created, raw=False, **kwargs):
    if raw:  # loaddata: fixtures are not live changes
        return
    changed = getattr(instance, "_liveboard_changed", set(Task.TRACKED))
    if created:
        event_type = events.TASK_CREATED
    elif changed & {"list_id", "position"}:
        event_type = events.TASK_MOVED
    elif changed:
        event_type = events.TASK_UPDATED
    else:
        return  # saved without a visible change: nothing to tell anyone
    instance._liveboard_event = events.record(
        instance.list.board_id, event_type, task=wire.task_dict(instance)
    )


@receiver(post_delete, sender=Task, dispatch_uid="liveboard_task_deleted")
def task_deleted(sender, instance, origin=None, **kwargs):
    model = origin.model if isinstance(origin, QuerySet) else type(origin)
    if model is Board:
        return  # the whole board goes, its log with it
    # Recording first takes the board row lock before neighbours are renumbered.
    instance._liveboard_event = events.record(instance.list.board_id, events.TASK_DELETED, taskId=instance.pk)
    ordering.close_gap(instance.list_id, instance.position)
