"""
WebSocket tickets for non-browser clients (SPEC §6, §7).

`POST /api/ws-ticket/` returns a random key; the database keeps only its
SHA-256 and an expiry. Redeeming is one DELETE of that row, so a ticket works
once, on whichever process sees it first, and never after it expires.
"""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from .models import WsTicket


def _hash(key):
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def issue(user):
    now = timezone.now()
    WsTicket.objects.filter(expires__lte=now).delete()  # keep the table small
    key = secrets.token_urlsafe(32)
    WsTicket.objects.create(
        key_hash=_hash(key), user=user, expires=now + timedelta(seconds=settings.LIVEBOARD_TICKET_TTL)
    )
    return key


def redeem(key):
    """The ticket's user, or None if it is unknown, used or expired."""
    if not key or len(key) > 200:
        return None
    ticket = WsTicket.objects.select_related("user").filter(key_hash=_hash(key)).first()
    if ticket is None:
        return None
    deleted, _ = WsTicket.objects.filter(pk=ticket.pk).delete()
    if deleted == 0 or ticket.expires <= timezone.now() or not ticket.user.is_active:
        return None  # someone else redeemed it first, or it is stale
    return ticket.user
