"""
Server-wide announcements (SPEC §11): `manage.py announce`, the admin and
POST /api/announcements/ all just create an Announcement; the post_save
receiver here sends it, after commit, to the `everyone` group that every
open WebSocket on every process has joined (boards.realtime.personal).
Stored, so GET /api/announcements/ shows a page opened later the ones of
the last LIVEBOARD_ANNOUNCEMENT_TTL seconds.
"""

from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone

from . import wire
from .models import Announcement
from .realtime import broadcast


def announce(text, level=Announcement.INFO, by=None):
    """Store and send an announcement; returns it."""
    ann = Announcement(text=text, level=level, created_by=by if by is not None and by.is_authenticated else None)
    ann.full_clean()
    ann.save()
    return ann


@receiver(post_save, sender=Announcement, dispatch_uid="liveboard_announcement_saved")
def announcement_saved(sender, instance, created, raw=False, **kwargs):
    if created and not raw:  # editing an old one in the admin sends nothing again
        transaction.on_commit(partial(broadcast.send_to_everyone, wire.announcement(instance)), robust=True)


def recent():
    """GET /api/announcements/: those of the last LIVEBOARD_ANNOUNCEMENT_TTL seconds, newest first."""
    since = timezone.now() - timedelta(seconds=settings.LIVEBOARD_ANNOUNCEMENT_TTL)
    return {"announcements": [wire.announcement(a) for a in Announcement.objects.filter(created__gte=since)[:50]]}
