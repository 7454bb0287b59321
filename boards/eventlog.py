"""
Recording board events: next seq, event row, broadcast after commit.

`record()` runs inside the transaction that changed the board (Task.save /
delete hold the board row lock). It takes the board's next sequence number
with an UPDATE on that row, writes the BoardEvent, and registers the
broadcast with `transaction.on_commit` — so a rolled-back change is never
announced and a committed one always has its seq and its log entry.

Which connection made the change is carried in a context variable set by the
consumer (`acting_channel`), so model signals stay ignorant of sockets.
"""

import contextlib
import contextvars
from functools import partial

from django.db import transaction
from django.db.models import F

from .realtime import broadcast
from .models import Board, BoardEvent

_acting_channel = contextvars.ContextVar("liveboard_acting_channel", default=None)

TASK_CREATED = "task_created"
TASK_MOVED = "task_moved"
TASK_UPDATED = "task_updated"
TASK_DELETED = "task_deleted"


@contextlib.contextmanager
def acting_channel(channel_name):
    """Mark changes made inside the block as made by this socket."""
    token = _acting_channel.set(channel_name)
    try:
        yield
    finally:
        _acting_channel.reset(token)


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


def record(board_pk, event_type, **payload):
    """Log one event and broadcast it once the surrounding transaction commits."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("board events must be recorded inside the changing transaction")
    slug, seq = next_seq(board_pk)
    frame = {"type": event_type, "boardId": slug, "seq": seq, **payload}
    event = BoardEvent.objects.create(board_id=board_pk, seq=seq, type=event_type, payload=frame)
    transaction.on_commit(partial(broadcast.send_event, slug, frame, _acting_channel.get()), robust=True)
    return event
