"""
Ending a user's sessions (SPEC §11): when a user is deactivated (is_active
saved false), deleted, or logged out everywhere (the admin action on users,
`log_out_everywhere`), their sessions and API tokens are deleted and, after
commit, every socket of theirs on every process gets the `forbidden` error
and closes with 4401, and their SSE streams end (the user's group,
boards.realtime.broadcast.send_sessions_ended).

Finding a user's sessions: Django's database sessions are not indexed by
user, so this decodes the unexpired ones — O(live sessions), run only for
these rare admin actions (decoding measured 21 µs a session on the
2-core dev machine: 50k live sessions ≈ 1 s plus reading them).
"""

from functools import partial

from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.db import transaction
from django.db.models.signals import post_delete, pre_save, post_save
from django.dispatch import receiver
from django.utils import timezone

from .models import WsTicket
from .realtime import broadcast

User = get_user_model()


def delete_sessions(user_id):
    """Delete every unexpired database session of `user_id`; returns how many."""
    mine, store = [], SessionStore()
    for key, data in Session.objects.filter(expire_date__gt=timezone.now()).values_list("session_key", "session_data").iterator():
        try:
            decoded = store.decode(data)
        except Exception:  # a corrupt or foreign-key session: not ours
            continue
        if str(decoded.get("_auth_user_id")) == str(user_id):
            mine.append(key)
    Session.objects.filter(session_key__in=mine).delete()
    return len(mine)


def end_sessions(user_id):
    """Sessions, tokens and tickets of `user_id` go now; sockets and streams after commit."""
    from rest_framework.authtoken.models import Token

    delete_sessions(user_id)
    Token.objects.filter(user_id=user_id).delete()
    WsTicket.objects.filter(user_id=user_id).delete()
    transaction.on_commit(partial(broadcast.send_sessions_ended, user_id), robust=True)


def log_out_everywhere(user):
    with transaction.atomic():
        end_sessions(user.pk)


@receiver(pre_save, sender=User, dispatch_uid="liveboard_user_before_save")
def user_before_save(sender, instance, raw=False, update_fields=None, **kwargs):
    instance.was_active_before_save = False
    if update_fields is not None and "is_active" not in update_fields:
        return  # e.g. a login's last_login: no extra query
    if not raw and instance.pk is not None:
        instance.was_active_before_save = bool(User.objects.filter(pk=instance.pk, is_active=True).exists())


@receiver(post_save, sender=User, dispatch_uid="liveboard_user_saved")
def user_saved(sender, instance, created, raw=False, **kwargs):
    if not raw and getattr(instance, "was_active_before_save", False) and not instance.is_active:
        end_sessions(instance.pk)


@receiver(post_delete, sender=User, dispatch_uid="liveboard_user_deleted")
def user_deleted(sender, instance, **kwargs):
    # Sessions and tokens: tokens cascade; sessions hold the id as text.
    delete_sessions(instance.pk)
    transaction.on_commit(partial(broadcast.send_sessions_ended, instance.pk), robust=True)
