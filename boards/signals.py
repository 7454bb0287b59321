"""
Model signals → board events: the only caller of boards.eventlog.record.

Every saved or deleted Task, List and Membership, and every rename or
visibility change of a Board, becomes an event (`task_*`, `list_*`,
`member_*`, `board_updated`), whoever saved it. The models' save() and
Django's deletion collector run these handlers inside the changing
transaction (see boards/eventlog.py). A deleted board has no log left to
write to: its `board_deleted` goes straight to the room after commit.
"""

from functools import partial

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import QuerySet
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from . import eventlog, ordering, wire
from .realtime import broadcast
from .models import Board, List, Membership, Task


def _deleted_with(origin):
    """The model whose deletion cascaded to this row (itself when deleted directly)."""
    return origin.model if isinstance(origin, QuerySet) else type(origin)


def _before(instance, field):
    saved = getattr(instance, "_saved_state", None)
    return None if saved is None else saved.get(field)


@receiver(post_save, sender=Task, dispatch_uid="liveboard_task_saved")
def task_saved(sender, instance, created, raw=False, **kwargs):
    if raw:  # loaddata: fixtures are not live changes
        return
    changed = instance.saved_changes if instance.saved_changes is not None else set(Task.TRACKED)
    details = {}
    if created:
        event_type = eventlog.TASK_CREATED
    elif changed & {"list_id", "position"}:
        event_type = eventlog.TASK_MOVED
        details = {"from": _before(instance, "list_id")}
    elif changed:
        event_type = eventlog.TASK_UPDATED
        details = {"changed": sorted(changed)}
    else:
        return  # saved without a visible change: nothing to tell anyone
    instance.last_event = eventlog.record(
        instance.list.board_id, event_type, details, task=wire.task_dict(instance)
    )


@receiver(post_delete, sender=Task, dispatch_uid="liveboard_task_deleted")
def task_deleted(sender, instance, origin=None, **kwargs):
    if _deleted_with(origin) is Board:
        return  # the whole board goes, its log with it
    # Recording first takes the board row lock before neighbours are renumbered.
    instance.last_event = eventlog.record(
        instance.list.board_id, eventlog.TASK_DELETED, {"title": instance.title}, taskId=instance.pk
    )
    ordering.close_gap(instance.list_id, instance.position)


# --- Columns ----------------------------------------------------------------------


@receiver(post_save, sender=List, dispatch_uid="liveboard_list_saved")
def list_saved(sender, instance, created, raw=False, **kwargs):
    if raw:
        return
    changed = instance.saved_changes if instance.saved_changes is not None else set(List.TRACKED)
    details = {}
    if created:
        event_type = eventlog.LIST_CREATED
    elif "position" in changed:
        event_type = eventlog.LIST_MOVED
    elif changed:
        event_type = eventlog.LIST_UPDATED
        details = {"from": _before(instance, "name")}
    else:
        return
    instance.last_event = eventlog.record(instance.board_id, event_type, details, list=wire.list_dict(instance))


@receiver(post_delete, sender=List, dispatch_uid="liveboard_list_deleted")
def list_deleted(sender, instance, origin=None, **kwargs):
    if _deleted_with(origin) is Board:
        return
    instance.last_event = eventlog.record(
        instance.board_id, eventlog.LIST_DELETED, {"name": instance.name}, listId=instance.pk
    )
    ordering.close_list_gap(instance.board_id, instance.position)


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
    instance.access_before_save = instance.role_before_save = None
    if not raw and instance.pk is not None:
        row = Membership.objects.filter(pk=instance.pk).values_list("board__slug", "user_id", "board_id", "role").first()
        if row is not None:
            instance.access_before_save = row[:2]
            instance.role_before_save = row[2:]


@receiver(post_save, sender=Membership, dispatch_uid="liveboard_membership_saved")
def membership_saved(sender, instance, created, raw=False, **kwargs):
    if raw:
        return
    was, before = instance.access_before_save, instance.role_before_save
    member = wire.member_dict(instance.user, instance.role)
    if was is None:  # new: it only grants access
        instance.last_event = eventlog.record(instance.board_id, eventlog.MEMBER_ADDED, member=member)
        return
    now = (Board.objects.filter(pk=instance.board_id).values_list("slug", flat=True).first(), instance.user_id)
    if tuple(was) != now:  # moved to another board or user: the old pair lost it
        eventlog.record(before[0], eventlog.MEMBER_REMOVED, user=_user_dict(was[1]))
        instance.last_event = eventlog.record(instance.board_id, eventlog.MEMBER_ADDED, member=member)
        _recheck_after_commit(*was)  # after the events: the room hears why first
    elif before[1] != instance.role:
        instance.last_event = eventlog.record(instance.board_id, eventlog.MEMBER_UPDATED, {"from": before[1]}, member=member)


def _user_dict(user_id):
    return wire.user_dict(get_user_model().objects.filter(pk=user_id).first())


@receiver(post_delete, sender=Membership, dispatch_uid="liveboard_membership_deleted")
def membership_deleted(sender, instance, origin=None, **kwargs):
    if _deleted_with(origin) is Board:
        return  # the board itself is going
    slug = Board.objects.filter(pk=instance.board_id).values_list("slug", flat=True).first()
    if slug is None:
        return
    user = {"id": instance.user_id, "name": instance.user.get_username()}
    instance.last_event = eventlog.record(instance.board_id, eventlog.MEMBER_REMOVED, user=user)
    _recheck_after_commit(slug, instance.user_id)
    if _deleted_with(origin) is not get_user_model():
        # A former member is no one's assignee here (their own deletion
        # unassigns by SET_NULL instead).
        for task in Task.objects.filter(list__board_id=instance.board_id, assignee_id=instance.user_id):
            task.assignee = None
            task.save()


@receiver(pre_save, sender=Board, dispatch_uid="liveboard_board_before_save")
def board_before_save(sender, instance, raw=False, **kwargs):
    instance.was_public_before_save = False
    instance.shown_before_save = None
    if not raw and instance.pk is not None:
        instance.shown_before_save = Board.objects.filter(pk=instance.pk).values_list("name", "visibility").first()
        instance.was_public_before_save = bool(instance.shown_before_save) and instance.shown_before_save[1] == Board.PUBLIC


@receiver(post_save, sender=Board, dispatch_uid="liveboard_board_saved")
def board_saved(sender, instance, created, raw=False, **kwargs):
    if raw:
        return
    before = instance.shown_before_save
    if before is not None and tuple(before) != (instance.name, instance.visibility):
        details = {"name": before[0], "visibility": before[1]}
        instance.last_event = eventlog.record(instance.pk, eventlog.BOARD_UPDATED, details, board=wire.board_dict(instance))
    if instance.was_public_before_save and not instance.is_public:
        _recheck_after_commit(instance.slug, None)  # everyone: anonymous viewers and non-members go


@receiver(post_delete, sender=Board, dispatch_uid="liveboard_board_deleted")
def board_deleted(sender, instance, **kwargs):
    actor = eventlog.current_actor()
    frame = wire.board_deleted(instance.slug, wire.user_dict(actor) if actor is not None else None)
    transaction.on_commit(partial(broadcast.send_board_deleted, instance.slug, frame), robust=True)
