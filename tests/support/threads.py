"""Running ORM work on other threads in async tests, without leaking connections."""

import functools

from asgiref.sync import sync_to_async
from django.db import connections, transaction

from boards.models import Task


def closing_connections(fn):
    """Close this thread's database connections when `fn` returns (PostgreSQL
    refuses to drop the test database while a worker thread still holds one)."""

    @functools.wraps(fn)
    def run(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        finally:
            connections.close_all()

    return run


def in_thread(fn, *args, **kwargs):
    """Await `fn(*args)` on a thread of its own — not the shared database thread
    the consumers use, so it runs even while that one is busy or blocked."""
    return sync_to_async(closing_connections(fn), thread_sensitive=False)(*args, **kwargs)


def commit_and_hold_broadcast(committed, release, title, list_id="list-todo"):
    """Commit a task event, then hold its broadcast until `release` is set.

    on_commit callbacks run in the order they were registered: ours runs
    first and blocks, send_event (registered by the save) waits behind it —
    the event is in the log, but its live frame is not out yet.
    """
    with transaction.atomic():
        transaction.on_commit(lambda: (committed.set(), release.wait(10)))
        Task.objects.create(list_id=list_id, title=title)
