"""
A join's database read, shared by every join of the same board that waits
for it at the same time ("singleflight", as Centrifugo names it).

A join needs the board (does it exist, is it public), the joiner's
membership when it is private, the board's seq, and — with `since` — the
events it missed. Read per socket, a reconnect storm (a process drained,
its 500 viewers back on the others at once) queues ~1,000 reads on the one
database thread of the process, ahead of everyone's changes. Here the
joins of a board that arrive while its read is still queued ride on that
read: one query for the board and seq, one for the members among the
joiners (private boards), one for the events after the lowest `since`.

Correctness rests on the join order (boards/realtime/rooms.py): a joiner
is in the board's group *before* it attaches to a flight, and it attaches
only to a flight whose read has not started yet — so the read, and the seq
it returns, comes after the joiner's group_add, and anything committed
later reaches the joiner live.
"""

import asyncio
import re
import threading

from channels.db import database_sync_to_async
from django.conf import settings

from boards import eventlog
from boards.errors import Forbidden, NotFound
from boards.models import Board, Membership

_SLUG = re.compile(r"^[A-Za-z0-9_-]+$")  # models.board_slug_validator: anything else is no board


class JoinView:
    """What one joiner learns: seq, its missed events (Logged rows), a resync reason or None."""

    __slots__ = ("seq", "missed", "resync")

    def __init__(self, seq, missed, resync):
        self.seq, self.missed, self.resync = seq, missed, resync


class _Flight:
    def __init__(self):
        self.lock = threading.Lock()
        self.started = False
        self.joiners = []  # (user id or None, since or None)

    def attach(self, user_id, since):
        """Ride on this flight, unless its read has begun (then: False)."""
        with self.lock:
            if self.started:
                return False
            self.joiners.append((user_id, since))
            return True

    def read(self, slug):
        """On the database thread: one read for every joiner attached so far."""
        with self.lock:
            self.started = True
            joiners = list(self.joiners)
        board = Board.objects.filter(slug=slug).values_list("pk", "visibility", "last_seq").first()
        if board is None:
            return None
        pk, visibility, last = board
        members = None
        if visibility != Board.PUBLIC:
            ids = {uid for uid, _ in joiners if uid is not None}
            members = set(Membership.objects.filter(board_id=pk, user_id__in=ids).values_list("user_id", flat=True))
        limit = settings.LIVEBOARD_REPLAY_LIMIT
        sinces = [s for _, s in joiners if s is not None and last - limit <= s < last]
        rows = eventlog.events_after(pk, min(sinces), last) if sinces else []
        return pk, last, members, rows


_flights = {}  # board slug -> the flight still waiting for its read (event-loop side)
reads = 0  # flights that reached the database, for tests and the benchmark


def check_slug(slug):
    """NotFound for an id no board can have — before it is used as a group name."""
    if not _SLUG.match(slug):
        raise NotFound(f"Unknown board: {slug}")


async def join_read(slug, user, since):
    """The board's view for a joiner already in its group: JoinView, or NotFound / Forbidden."""
    global reads
    user_id = user.pk if user is not None and user.is_authenticated else None
    flight = _flights.get(slug)
    if flight is None or not flight.attach(user_id, since):
        flight = _flights[slug] = _Flight()
        flight.attach(user_id, since)
        flight.task = asyncio.ensure_future(database_sync_to_async(flight.read)(slug))
        flight.task.add_done_callback(lambda _task, f=flight: _flights.get(slug) is f and _flights.pop(slug))
        reads += 1
    # Shielded: one joiner going away must not cancel the read for the others.
    result = await asyncio.shield(flight.task)
    if result is None:
        raise NotFound(f"Unknown board: {slug}")
    _pk, last, members, rows = result
    if members is not None and user_id not in members:
        raise Forbidden(f"You may not view board {slug}")
    missed, resync = eventlog.replay_for(since, last, rows, settings.LIVEBOARD_REPLAY_LIMIT)
    return JoinView(last, missed, resync)
