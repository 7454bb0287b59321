"""
The models of SPEC §11, beside boards/models.py (which imports them, so
`boards.models.Announcement` works as for any model): server-wide
announcements and per-user notifications.
"""

from django.conf import settings
from django.core.validators import MaxLengthValidator, MinLengthValidator
from django.db import models

ANNOUNCEMENT_MAX = 500
NOTIFICATION_TEXT_MAX = 2000


class Announcement(models.Model):
    """A server-wide message; saving a new one sends it to every open socket
    (boards.announcements), stored so a page opened later shows it too."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"
    LEVEL_CHOICES = [(INFO, "Info"), (WARNING, "Warning"), (CRITICAL, "Critical")]

    text = models.CharField(
        max_length=ANNOUNCEMENT_MAX, validators=[MinLengthValidator(1), MaxLengthValidator(ANNOUNCEMENT_MAX)]
    )
    level = models.CharField(max_length=10, choices=LEVEL_CHOICES, default=INFO)
    created = models.DateTimeField(auto_now_add=True, db_index=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, editable=False)

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self):
        return f"[{self.level}] {self.text[:60]}"


class Notification(models.Model):
    """Something that happened to one user (SPEC §11), stored and pushed.

    `board_slug` and `task_id` are plain values, not keys: a notification
    outlives the task (or board) it was about and still says what happened.
    """

    ADDED_TO_BOARD = "added_to_board"
    ROLE_CHANGED = "role_changed"
    REMOVED_FROM_BOARD = "removed_from_board"
    ASSIGNED = "assigned"
    MENTIONED = "mentioned"
    MESSAGE = "message"
    KIND_CHOICES = [(k, k) for k in (ADDED_TO_BOARD, ROLE_CHANGED, REMOVED_FROM_BOARD, ASSIGNED, MENTIONED, MESSAGE)]

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=30, choices=KIND_CHOICES)
    text = models.TextField(max_length=NOTIFICATION_TEXT_MAX)
    board_slug = models.CharField(max_length=80, null=True, blank=True)
    task_id = models.BigIntegerField(null=True, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created = models.DateTimeField(auto_now_add=True)
    read = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["user", "read", "-created"])]

    def __str__(self):
        return f"{self.kind} for {self.user}: {self.text[:60]}"
