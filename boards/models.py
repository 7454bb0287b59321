"""
The board's data: boards, their lists (columns), tasks, memberships and the
event log that makes every change replayable.

Ordering invariant: within a list, task positions are 0..n-1 with no holes.
`Task.save()` keeps it (moving a task shifts its neighbours) so that every way
of changing a task — WebSocket, REST, admin, shell — agrees with what clients
do locally: take the task out, insert it at `position`.
"""

import json
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MinLengthValidator, RegexValidator
from django.db import models, transaction

# Group names in Channels allow ASCII letters, digits, '-', '_' and '.' only.
board_slug_validator = RegexValidator(
    r"^[A-Za-z0-9_-]+$", "Use letters, digits, '-' and '_' only."
)


def one_or_none(queryset):
    """The one row a unique lookup matches, or None.

    Not QuerySet.first(): that adds ORDER BY Meta.ordering, which for Task
    and List follows foreign keys (list → board → slug) — joins, and ORM
    compile time on every task change, for a lookup that can match one row.
    """
    try:
        return queryset.get()
    except queryset.model.DoesNotExist:
        return None


TITLE_MAX = 200
DESCRIPTION_MAX = 10_000
LIST_NAME_MAX = 100
BOARD_NAME_MAX = 200


def new_list_id():
    """A list id made by the server: globally unique, safe in a group name."""
    return f"list-{secrets.token_hex(6)}"


class Board(models.Model):
    PUBLIC = "public"
    PRIVATE = "private"
    VISIBILITY_CHOICES = [(PUBLIC, "Public (anyone may watch)"), (PRIVATE, "Private (members only)")]

    slug = models.CharField(
        max_length=80, unique=True, validators=[board_slug_validator],
        help_text="The public board id, e.g. board-1.",
    )
    name = models.CharField(max_length=BOARD_NAME_MAX)
    visibility = models.CharField(max_length=10, choices=VISIBILITY_CHOICES, default=PUBLIC)
    last_seq = models.PositiveBigIntegerField(
        default=0, editable=False,
        help_text="Sequence number of the board's latest event.",
    )
    created = models.DateTimeField(auto_now_add=True)

    #: whether the row was public before the running save() (set by
    #: signals.board_before_save; a public → private change evicts viewers).
    was_public_before_save = False
    #: (name, visibility) of the row before the running save(), None for a
    #: new board (set by signals.board_before_save; a change is board_updated).
    shown_before_save = None
    #: the board_updated event the last save() recorded, if any (read by the services).
    last_event = None

    class Meta:
        ordering = ["slug"]

    def __str__(self):
        return self.slug

    def save(self, *args, **kwargs):
        # Atomic, so the board_updated event (boards.signals) is recorded in
        # the changing transaction even for a bare save() in a shell.
        with transaction.atomic(savepoint=False):
            super().save(*args, **kwargs)

    @property
    def is_public(self):
        return self.visibility == self.PUBLIC


class TrackedChanges:
    """Remember a row's tracked fields as loaded, to tell what a save() changed."""

    TRACKED = ()

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._remember_saved_state()
        return instance

    def _remember_saved_state(self):
        self._saved_state = {f: getattr(self, f) for f in self.TRACKED}

    def changed_fields(self):
        """Tracked fields that differ from the database row we loaded."""
        saved = getattr(self, "_saved_state", None)
        if saved is None:
            return set(self.TRACKED)
        return {f for f in self.TRACKED if getattr(self, f) != saved[f]}


class List(TrackedChanges, models.Model):
    """A column of a board. Its id is a global string such as `list-todo`;
    new lists get one made by the server (`new_list_id`).

    Positions are 0..n-1 per board, kept by save()/delete() like tasks'.
    """

    id = models.CharField(primary_key=True, max_length=80, validators=[board_slug_validator], default=new_list_id)
    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="lists")
    name = models.CharField(
        max_length=LIST_NAME_MAX, validators=[MinLengthValidator(1), MaxLengthValidator(LIST_NAME_MAX)]
    )
    position = models.PositiveIntegerField(default=None, blank=True, help_text="0 is the left; empty appends.")

    TRACKED = ("name", "position")

    #: tracked fields the running save() changed (read by signals.list_saved).
    saved_changes = None
    #: the BoardEvent the last save()/delete() recorded (read by the services).
    last_event = None

    class Meta:
        ordering = ["board", "position", "id"]
        indexes = [models.Index(fields=["board", "position"])]

    def __str__(self):
        return f"{self.board_id}/{self.id}"

    def save(self, *args, board_locked=False, **kwargs):
        """Save, keep the board's column order gap-free, record the event — atomically."""
        from .ordering import place_list

        with transaction.atomic(savepoint=False):
            if not board_locked:
                Board.objects.select_for_update().filter(pk=self.board_id).values_list("pk").get()
            changed = self.changed_fields()
            if self._state.adding or "position" in changed:
                place_list(self, new=self._state.adding)
            self.saved_changes = changed
            super().save(*args, **kwargs)
            self._remember_saved_state()


class Task(TrackedChanges, models.Model):
    list = models.ForeignKey(List, on_delete=models.CASCADE, related_name="tasks")
    title = models.CharField(
        max_length=TITLE_MAX, validators=[MinLengthValidator(1), MaxLengthValidator(TITLE_MAX)]
    )
    description = models.TextField(blank=True, default="", validators=[MaxLengthValidator(DESCRIPTION_MAX)])
    # None until saved means "append to the list"; save() always sets it.
    position = models.PositiveIntegerField(default=None, blank=True, help_text="0 is the top; empty appends.")
    version = models.PositiveIntegerField(default=1, editable=False)
    # A member of the board (boards.services checks it). Deleting the user
    # unassigns (SET_NULL is a queryset update: no event, see README).
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_tasks"
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    # Fields whose change is an event; anything else (timestamps) is not.
    TRACKED = ("list_id", "position", "title", "description", "assignee_id")

    # What one save()/delete() hands to the signal handlers and back to its
    # caller — plain instance attributes, not columns, declared here so a
    # reader can find them:
    #: tracked fields the running save() changed (set by save(), read by
    #: signals.task_saved to choose task_moved / task_updated / nothing).
    saved_changes = None
    #: the BoardEvent the last save()/delete() recorded (set by
    #: boards.signals, read by boards.services for the ack's seq).
    last_event = None

    class Meta:
        ordering = ["list", "position", "id"]
        indexes = [models.Index(fields=["list", "position"])]

    def __str__(self):
        return self.title

    @property
    def board_id(self):
        return self.list.board_id

    def _moved_across_boards(self):
        saved = getattr(self, "_saved_state", None)
        if saved is None or saved["list_id"] == self.list_id:
            return False
        old_board = List.objects.filter(pk=saved["list_id"]).values_list("board_id", flat=True).first()
        return old_board is not None and old_board != self.list.board_id

    def clean(self):
        super().clean()
        if self.list_id and self._moved_across_boards():
            raise ValidationError({"list": "A task cannot move to a list of another board."})

    def save(self, *args, board_locked=False, **kwargs):
        """Save, keep list order gap-free, and record the event — atomically.

        The post_save handler (boards/signals.py) allocates the board's next
        seq and writes the BoardEvent; running it inside this transaction is
        what makes "a change without its event" impossible, even for a bare
        `task.save()` in a shell. `board_locked=True`: the caller (boards.services)
        already holds the board row lock in this transaction.
        """
        from .ordering import place_task

        with transaction.atomic(savepoint=False):
            if not board_locked:
                self._lock_board()
            changed = self.changed_fields()
            if not self._state.adding and "list_id" in changed and self._moved_across_boards():
                raise ValidationError("A task cannot move to a list of another board.")
            if self._state.adding:
                place_task(self, new=True)
            elif changed & {"list_id", "position"}:
                place_task(self, new=False)
            if not self._state.adding and changed:
                self.version += 1
            self.saved_changes = changed
            super().save(*args, **kwargs)
            self._remember_saved_state()

    def delete(self, *args, board_locked=False, **kwargs):
        with transaction.atomic(savepoint=False):
            if not board_locked:
                self._lock_board()
            return super().delete(*args, **kwargs)

    def _lock_board(self):
        """Lock the board row for a save()/delete() whose caller did not.

        boards.services locks the board before it checks permission and
        version, and says so with `board_locked=True`; a bare save() in a
        shell or the admin locks here. (No savepoint either: an error in
        save() aborts the whole change, and each query counts — BENCHMARKS.md.)
        """
        Board.objects.select_for_update().filter(pk=self.list.board_id).values_list("pk").get()


class Membership(models.Model):
    VIEWER = "viewer"
    EDITOR = "editor"
    OWNER = "owner"
    ROLE_CHOICES = [(VIEWER, "Viewer"), (EDITOR, "Editor"), (OWNER, "Owner")]
    EDIT_ROLES = frozenset({EDITOR, OWNER})

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=ROLE_CHOICES, default=VIEWER)

    #: (board slug, user id) of the row before the running save(), or None
    #: for a new one (set by signals.membership_before_save: moving a
    #: membership to another board or user revokes the old pair's access).
    access_before_save = None

    #: the role before the running save(), None for a new membership (set by
    #: signals.membership_before_save: a change of role is member_updated).
    role_before_save = None
    #: the member_* event the last save()/delete() recorded (read by the services).
    last_event = None

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "board"], name="one_membership_per_user_board")]

    def __str__(self):
        return f"{self.user} {self.role} of {self.board}"

    def save(self, *args, **kwargs):
        # Atomic, so the member_* event is recorded in the changing transaction.
        with transaction.atomic(savepoint=False):
            super().save(*args, **kwargs)


class BoardEvent(models.Model):
    """One entry of a board's gap-free event log, stored as its wire frame.

    Replays send `frame` verbatim — the very text the live broadcast sent, so
    a replayed event carries the task as it was then, with the keys in the
    live order (a JSON column would reorder them: PostgreSQL's jsonb does),
    and a join storm's replay costs no JSON encoding per socket.
    """

    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveBigIntegerField()
    type = models.CharField(max_length=32)
    frame = models.TextField(help_text="The event's frame as sent live (JSON text).")
    # What the frame does not say but the activity sentence needs (a deleted
    # task's title, a renamed list's old name, which fields an edit changed).
    details = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["board", "seq"]
        constraints = [models.UniqueConstraint(fields=["board", "seq"], name="unique_board_seq")]

    def __str__(self):
        return f"{self.board_id}#{self.seq} {self.type}"

    @property
    def payload(self):
        """The frame as a dict."""
        return json.loads(self.frame)


class WsTicket(models.Model):
    """A short-lived, single-use WebSocket login for non-browser clients.

    Kept in the database (hashed) so that redeeming it is one atomic DELETE:
    a ticket used on one server process cannot be used again on another.
    """

    key_hash = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    expires = models.DateTimeField(db_index=True)

    def __str__(self):
        return f"ticket for {self.user} until {self.expires:%H:%M:%S}"



# SPEC §11's models (announcements, notifications) live in their own module.
from .personal_models import ANNOUNCEMENT_MAX, NOTIFICATION_TEXT_MAX, Announcement, Notification  # noqa: E402,F401
