"""
Model signals → board events: the only caller of boards.eventlog.record.

Every saved or deleted Task becomes a `task_*` event, whoever saved it.
Task.save()/delete() and Django's deletion collector run these handlers
inside the changing transaction (see boards/eventlog.py).
"""

from functools import partial

from django.db import transaction
from django.db.models import QuerySet
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from . import eventlog, ordering, wire
from .realtime import broadcast
from .models import Board, Membership, Task


@receiver(post_save, sender=Task, dispatch_uid="liveboard_task_saved")
def task_saved(sender, instance, created, raw=False, **kwargs):
    if raw:  # loaddata: fixtures are not live changes
        return
    changed = instance.saved_changes if instance.saved_changes is not None else set(Task.TRACKED)
    if created:
        event_type = eventlog.TASK_CREATED
    elif changed & {"list_id", "position"}:
        event_type = eventlog.TASK_MOVED
    elif changed:
        event_type = eventlog.TASK_UPDATED
    else:
        return  # saved without a visible change: nothing to tell anyone
    instance.last_event = eventlog.record(
        instance.list.board_id, event_type, task=wire.task_dict(instance)
    )


@receiver(post_delete, sender=Task, dispatch_uid="liveboard_task_deleted")
def task_deleted(sender, instance, origin=None, **kwargs):
    model = origin.model if isinstance(origin, QuerySet) else type(origin)
    if model is Board:
        return  # the whole board goes, its log with it
    # Recording first takes the board row lock before neighbours are renumbered.
    instance.last_event = eventlog.record(instance.list.board_id, eventlog.TASK_DELETED, taskId=instance.pk)
    ordering.close_gap(instance.list_id, instance.position)


# --- Access: memberships and visibility -----------------------------------------
# A connection checks permission when it joins; these tell the connections
# already in the room when that answer may have changed (SPEC §7): a
# membership deleted or moved to another user/board, or a board turned
# private. After commit, like events; each consumer re-checks and leaves the
# board with a `forbidden` error if it lost access (BoardConsumer.board_access).
# QuerySet.update() sends no signals and so tells no one: change access with
# save()/delete() (the admin, the shell, the ORM) instead.


def _recheck_after_commit(board_slug, user_id):
    transaction.on_commit(partial(broadcast.send_access_check, board_slug, user_id), robust=True)


@receiver(pre_save, sender=Membership, dispatch_uid="liveboard_membership_before_save")
def membership_before_save(sender, instance, raw=False, **kwargs):
    instance.access_before_save = None
    if not raw and instance.pk is not None:
        instance.access_before_save = (
            Membership.objects.filter(pk=instance.pk).values_list("board__slug", "user_id").first()
        )


@receiver(post_save, sender=Membership, dispatch_uid="liveboard_membership_saved")
def membership_saved(sender, instance, created, raw=False, **kwargs):
    was = instance.access_before_save
    if raw or was is None:
        return  # new memberships only grant access
    now = (Board.objects.filter(pk=instance.board_id).values_list("slug", flat=True).first(), instance.user_id)
    if tuple(was) != now:  # moved to another board or user: the old pair lost it
        _recheck_after_commit(*was)


@receiver(post_delete, sender=Membership, dispatch_uid="liveboard_membership_deleted")
def membership_deleted(sender, instance, origin=None, **kwargs):
    model = origin.model if isinstance(origin, QuerySet) else type(origin)
    if model is Board:
        return  # the board itself is going
    slug = Board.objects.filter(pk=instance.board_id).values_list("slug", flat=True).first()
    if slug is not None:
        _recheck_after_commit(slug, instance.user_id)


@receiver(pre_save, sender=Board, dispatch_uid="liveboard_board_before_save")
def board_before_save(sender, instance, raw=False, **kwargs):
    instance.was_public_before_save = False
    if not raw and instance.pk is not None:
        was = Board.objects.filter(pk=instance.pk).values_list("visibility", flat=True).first()
        instance.was_public_before_save = was == Board.PUBLIC


@receiver(post_save, sender=Board, dispatch_uid="liveboard_board_saved")
def board_saved(sender, instance, created, raw=False, **kwargs):
    if not raw and instance.was_public_before_save and not instance.is_public:
        _recheck_after_commit(instance.slug, None)  # everyone: anonymous viewers and non-members go
