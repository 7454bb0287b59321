"""
The board event log: writing events and reading them back, in one place.

Writing (`record`, SPEC §5): every board event gets the next seq of its
board inside the transaction that made the change, its BoardEvent row, and
a broadcast registered with `transaction.on_commit`. boards.signals is the
only caller of `record` — a change made by any door (socket, REST, admin,
shell) passes through a model's save()/delete() and so through a signal.

Reading (`catch_up`, `events_since`, `events_page`): what a join with
`since`, an SSE resume or a poll replays, or `ResyncRequired` when those
events are no longer (or not yet) kept.

Write side: `record()` runs inside the transaction that changed the board (Task.save /
delete hold the board row lock). It takes the board's next sequence number
with an UPDATE on that row, writes the BoardEvent, and registers the
broadcast with `transaction.on_commit` — so a rolled-back change is never
announced and a committed one always has its seq and its log entry.

Which connection made the change is carried in a context variable set by the
consumer (`acting_channel`), so model signals stay ignorant of sockets; who
made it (the frame's `actor`, SPEC §4) in another, set by whoever knows the
user — boards.services for every socket and REST change, the admin for its
saves (`acting_user`). A change made with neither (a shell, a management
command) has `actor: null`.
"""

import contextlib
import contextvars
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import F

from . import wire
from .realtime import broadcast
from .models import Board, BoardEvent

_acting_channel = contextvars.ContextVar("liveboard_acting_channel", default=None)
_acting_user = contextvars.ContextVar("liveboard_acting_user", default=None)

TASK_CREATED = "task_created"
TASK_MOVED = "task_moved"
TASK_UPDATED = "task_updated"
TASK_DELETED = "task_deleted"
LIST_CREATED = "list_created"
LIST_UPDATED = "list_updated"
LIST_MOVED = "list_moved"
LIST_DELETED = "list_deleted"
BOARD_UPDATED = "board_updated"
MEMBER_ADDED = "member_added"
MEMBER_UPDATED = "member_updated"
MEMBER_REMOVED = "member_removed"


@contextlib.contextmanager
def acting_channel(channel_name):
    """Mark changes made inside the block as made by this socket."""
    token = _acting_channel.set(channel_name)
    try:
        yield
    finally:
        _acting_channel.reset(token)


@contextlib.contextmanager
def acting_user(user):
    """Mark changes made inside the block as made by `user` (their events' `actor`)."""
    token = _acting_user.set(user if user is not None and user.is_authenticated else None)
    try:
        yield
    finally:
        _acting_user.reset(token)


def current_actor():
    """The User making the running change, or None (a shell, a command)."""
    return _acting_user.get()


def next_seq(board_pk):
    """Allocate the board's next seq: (slug, seq). The UPDATE locks the row until commit.

    One `UPDATE … RETURNING` where the database has it (PostgreSQL, SQLite ≥
    3.35): the ORM's update() returns no values, and a second SELECT per
    change is measurable under fan-out (BENCHMARKS.md).
    """
    connection = transaction.get_connection()
    if not _has_update_returning(connection):
        Board.objects.filter(pk=board_pk).update(last_seq=F("last_seq") + 1)
        return Board.objects.filter(pk=board_pk).values_list("slug", "last_seq").get()
    quote, meta = connection.ops.quote_name, Board._meta
    last_seq, slug = (quote(meta.get_field(name).column) for name in ("last_seq", "slug"))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(meta.db_table)} SET {last_seq} = {last_seq} + 1 "
            f"WHERE {quote(meta.pk.column)} = %s RETURNING {slug}, {last_seq}",
            [board_pk],
        )
        row = cursor.fetchone()
    if row is None:
        raise Board.DoesNotExist(f"No board {board_pk}")
    return row[0], row[1]


def _has_update_returning(connection):
    if connection.vendor == "postgresql":
        return True
    if connection.vendor == "sqlite":
        return connection.Database.sqlite_version_info >= (3, 35)
    return False


def record(board_pk, event_type, details=None, **payload):
    """Log one event and broadcast it once the surrounding transaction commits.

    `details`: what the activity sentence needs beyond the frame (stored, not sent).
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("board events must be recorded inside the changing transaction")
    slug, seq = next_seq(board_pk)
    actor = _acting_user.get()
    frame = wire.board_event(event_type, slug, seq, wire.user_dict(actor) if actor is not None else None, **payload)
    text = wire.dumps(frame)  # once: the log row, the broadcast and every replay send this text
    event = BoardEvent.objects.create(board_id=board_pk, seq=seq, type=event_type, frame=text, details=details or {})
    transaction.on_commit(partial(broadcast.send_event, slug, frame, _acting_channel.get(), text), robust=True)
    return event


# --- reading the log back --------------------------------------------------------


class ResyncRequired(Exception):
    """The requested events are no longer (or not yet) in the log."""


def catch_up(board, since):
    """(seq, events after `since` as Logged rows, resync reason or None) for a join/resume.

    Shared by the socket join and the SSE stream: without `since` there is
    nothing to replay; events no longer (or not yet) in the log give a reason
    instead of frames.
    """
    if since is None:
        return board.last_seq, [], None
    try:
        return board.last_seq, events_since(board, since), None
    except ResyncRequired as exc:
        return board.last_seq, [], str(exc)


class Logged(tuple):
    """One logged event read back: (seq, type, text) — `text` is the frame as sent live."""

    __slots__ = ()
    seq = property(lambda self: self[0])
    type = property(lambda self: self[1])
    text = property(lambda self: self[2])


def _logged(rows):
    return [Logged(row) for row in rows]


def events_since(board, since, limit=None):
    """Logged events with seq > since, oldest first, or ResyncRequired.

    `board` is a Board fresh from the database: its last_seq bounds the
    answer, so events committed later arrive live, not here.
    """
    last = board.last_seq
    if since > last:
        raise ResyncRequired(f"since={since} is ahead of the board (seq {last})")
    if since == last:
        return []
    limit = limit or settings.LIVEBOARD_REPLAY_LIMIT
    if last - since > limit:
        raise ResyncRequired(f"{last - since} missed events exceed the replay limit of {limit}")
    rows = list(
        BoardEvent.objects.filter(board=board, seq__gt=since, seq__lte=last)
        .order_by("seq")
        .values_list("seq", "type", "frame")
    )
    if len(rows) != last - since or rows[0][0] != since + 1:
        raise ResyncRequired(f"events after seq {since} are no longer kept")
    return _logged(rows)


def replay_for(since, last, rows, limit):
    """A join's replay from rows read for a burst of joins (boards.realtime.catchup):
    (Logged events after `since`, resync reason or None). `rows` are the
    board's logged events up to `last`, oldest first, from some floor on."""
    if since is None:
        return [], None
    if since > last:
        return [], f"since={since} is ahead of the board (seq {last})"
    if since == last:
        return [], None
    if last - since > limit:
        return [], f"{last - since} missed events exceed the replay limit of {limit}"
    missed = [row for row in rows if row[0] > since]
    if len(missed) != last - since or missed[0][0] != since + 1:
        return [], f"events after seq {since} are no longer kept"
    return missed, None


def events_after(board_pk, floor, last):
    """Logged events with floor < seq ≤ last, oldest first (one query for many joins)."""
    if floor >= last:
        return []
    return _logged(
        BoardEvent.objects.filter(board_id=board_pk, seq__gt=floor, seq__lte=last)
        .order_by("seq")
        .values_list("seq", "type", "frame")
    )


def events_page(board, since, limit):
    """One page of the log: (Logged events with since < seq ≤ board.last_seq, more).

    At most `limit` frames, oldest first; `more` says the board has events
    after the last one returned. ResyncRequired when `since` is ahead of the
    board or the events right after it are no longer kept. Like
    events_since, the board's last_seq (read by the caller) bounds the
    answer, so the page is consistent with the `seq` reported next to it.
    """
    last = board.last_seq
    if since > last:
        raise ResyncRequired(f"since={since} is ahead of the board (seq {last})")
    if since == last:
        return [], False
    rows = list(
        BoardEvent.objects.filter(board=board, seq__gt=since, seq__lte=last)
        .order_by("seq")
        .values_list("seq", "type", "frame")[: max(1, limit)]
    )
    # seqs are unique per board: first == since+1 and last == since+n means no hole.
    if not rows or rows[0][0] != since + 1 or rows[-1][0] != since + len(rows):
        raise ResyncRequired(f"events after seq {since} are no longer kept")
    return _logged(rows), rows[-1][0] < last
