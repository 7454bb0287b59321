"""
Notifications (SPEC §11): something that happened to one user, stored and
pushed to every socket of theirs on every process.

Made by any door, like board events: the Membership and Task receivers
below run inside the changing transaction (the admin, the REST API, a
socket, a shell all save through the models), write the Notification row
there, and push its frame with `transaction.on_commit` through
boards.realtime.broadcast — so a rolled-back change notifies no one and a
committed one always has its row. The actor is eventlog.current_actor();
nobody is notified of their own action.

Kinds: added_to_board / role_changed / removed_from_board (a Membership of
yours created, changed, deleted — read from the pre_save state boards.signals
keeps), assigned, mentioned (`@username` newly in a task's title or
description, for users who may view the board) and message (a direct
message, `send_direct`).
"""

import re
from functools import partial

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import QuerySet
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from . import eventlog, permissions, wire
from .errors import BadRequest, Forbidden, NotFound
from .models import NOTIFICATION_TEXT_MAX, Board, Membership, Notification, Task
from .realtime import broadcast

# Django usernames are letters, digits and @ . + - _; "@bob," and "@bob." mention bob.
MENTION = re.compile(r"(?<![\w.@+-])@([\w.@+-]{1,150})")
MENTIONS_MAX = 20  # per save: a pasted list of 500 names notifies 20 of them
LIST_MAX = 100  # GET /api/notifications/ returns the newest 100


def notify(user_id, kind, text, *, board_slug=None, task_id=None, actor=None):
    """Store a notification for `user_id` and push it after commit; None for
    the actor's own action."""
    if actor is not None and actor.pk == user_id:
        return None
    note = Notification.objects.create(
        user_id=user_id, kind=kind, text=text[:NOTIFICATION_TEXT_MAX], board_slug=board_slug, task_id=task_id, actor=actor
    )
    frame = wire.notification(note, wire.user_dict(actor) if actor is not None else None)
    transaction.on_commit(partial(broadcast.send_to_user, user_id, frame), robust=True)
    return note


def _who(actor):
    return actor.get_username() if actor is not None else "Someone"


def _board_label(board):
    return board.name or board.slug


# --- memberships ------------------------------------------------------------------


def _deleted_with(origin):
    return origin.model if isinstance(origin, QuerySet) else type(origin)


@receiver(post_save, sender=Membership, dispatch_uid="liveboard_membership_notifications")
def membership_saved(sender, instance, created, raw=False, **kwargs):
    if raw:
        return
    was, before = instance.access_before_save, instance.role_before_save  # boards.signals, pre_save
    actor = eventlog.current_actor()
    board = Board.objects.get(pk=instance.board_id)
    added = f"{_who(actor)} added you to {_board_label(board)} as {instance.role}"
    if was is None:
        notify(instance.user_id, Notification.ADDED_TO_BOARD, added, board_slug=board.slug, actor=actor)
    elif tuple(was) != (board.slug, instance.user_id):  # moved to another board or user
        gone = f"{_who(actor)} removed you from {was[0]}"
        notify(was[1], Notification.REMOVED_FROM_BOARD, gone, board_slug=was[0], actor=actor)
        notify(instance.user_id, Notification.ADDED_TO_BOARD, added, board_slug=board.slug, actor=actor)
    elif before[1] != instance.role:
        text = f"{_who(actor)} changed your role on {_board_label(board)} to {instance.role}"
        notify(instance.user_id, Notification.ROLE_CHANGED, text, board_slug=board.slug, actor=actor)


@receiver(post_delete, sender=Membership, dispatch_uid="liveboard_membership_removed_notification")
def membership_deleted(sender, instance, origin=None, **kwargs):
    if _deleted_with(origin) in (Board, get_user_model()):
        return  # the board or the user itself is going
    board = Board.objects.filter(pk=instance.board_id).first()
    if board is None:
        return
    actor = eventlog.current_actor()
    text = f"{_who(actor)} removed you from {_board_label(board)}"
    notify(instance.user_id, Notification.REMOVED_FROM_BOARD, text, board_slug=board.slug, actor=actor)


# --- tasks: assigned, mentioned ------------------------------------------------------


def mentions(text):
    return {name.rstrip(".") for name in MENTION.findall(text or "")} - {""}


def _before(instance, field):
    saved = getattr(instance, "_saved_state", None)  # the row as loaded (models.TrackedChanges)
    return None if saved is None else saved.get(field)


@receiver(post_save, sender=Task, dispatch_uid="liveboard_task_notifications")
def task_saved(sender, instance, created, raw=False, **kwargs):
    if raw:
        return
    changed = instance.saved_changes if instance.saved_changes is not None else set(Task.TRACKED)
    assigned = instance.assignee_id is not None and (created or "assignee_id" in changed)
    new_names = set()
    if "@" in instance.title or "@" in instance.description:
        if created or changed & {"title", "description"}:
            old = "" if created else f"{_before(instance, 'title') or ''}\n{_before(instance, 'description') or ''}"
            new_names = mentions(f"{instance.title}\n{instance.description}") - mentions(old)
    if not assigned and not new_names:
        return  # the common save: no query, no row
    actor = eventlog.current_actor()
    board = Board.objects.get(pk=instance.list.board_id)
    where = dict(board_slug=board.slug, task_id=instance.pk, actor=actor)
    if assigned:
        text = f"{_who(actor)} assigned you “{instance.title}” on {_board_label(board)}"
        notify(instance.assignee_id, Notification.ASSIGNED, text, **where)
    users = get_user_model().objects.filter(username__in=sorted(new_names)[:MENTIONS_MAX], is_active=True)
    for user in users:
        if permissions.can_view(user, board):  # a mention never shows a private task to an outsider
            text = f"{_who(actor)} mentioned you in “{instance.title}” on {_board_label(board)}"
            notify(user.pk, Notification.MENTIONED, text, **where)


# --- direct messages ----------------------------------------------------------------------


def send_direct(sender, to, text):
    """A direct message (validated `text`) from `sender` to username `to`: the
    recipient's `message` notification. Both must share a board (SPEC §11)."""
    if sender is None or not sender.is_authenticated:
        raise Forbidden("Log in to send messages")
    if to == sender.get_username():
        raise BadRequest("You cannot send a message to yourself")
    recipient = get_user_model().objects.filter(username=to, is_active=True).first()
    if recipient is None:
        raise NotFound(f"Unknown user: {to}")
    if not Membership.objects.filter(user=sender, board__memberships__user=recipient).exists():
        raise Forbidden(f"You and {to} are not members of a common board")
    with transaction.atomic():
        return notify(recipient.pk, Notification.MESSAGE, text, actor=sender)


# --- reading ---------------------------------------------------------------------------------


def unread_count(user):
    return Notification.objects.filter(user=user, read=False).count()


def listing(user, unread_only=False):
    """GET /api/notifications/: the newest LIST_MAX of `user`'s, and the unread count."""
    notes = Notification.objects.filter(user=user).select_related("actor")
    if unread_only:
        notes = notes.filter(read=False)
    return {"notifications": [wire.notification_dict(n) for n in notes[:LIST_MAX]], "unread": unread_count(user)}


def mark_read(user, ids=None, everything=False, exclude=None):
    """Mark `ids` (or all) of `user`'s notifications read; their other sockets
    (all but channel `exclude`) hear it after commit. Returns the unread count.
    Ids that are not the user's, or already read, change nothing."""
    if user is None or not user.is_authenticated:
        raise Forbidden("Log in to read notifications")
    with transaction.atomic():
        notes = Notification.objects.filter(user=user, read=False)
        if not everything:
            notes = notes.filter(pk__in=ids)
        changed = notes.update(read=True)
        unread = unread_count(user)
        if changed:
            frame = wire.notifications_read("all" if everything else list(ids), unread)
            transaction.on_commit(partial(broadcast.send_to_user, user.pk, frame, exclude), robust=True)
    return unread
