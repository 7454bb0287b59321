"""
Who is looking at which board.

A small interface — `add`, `remove`, `state` (plus the busy-board diff
queue, `push_diff`/`take_diff`) — with two stores: the in-process one
(memory.py, embedded mode) and the Redis one (redis_store.py, REDIS_URL
set), which spans processes and drops the entries of a dead process.
Entries are keyed by channel name: one user with two tabs counts twice in
`viewers` but once in `users`.

`get_presence()` and `get_announcer()` are the process-wide store and the
announcer that tells a board's room who came and went (announce.py: per-join
frames on quiet boards, one coalesced frame per interval on busy ones).
Nothing in this package imports the consumer; the consumer imports this.
"""

from django.conf import settings

from boards.realtime.presence.announce import Announcer
from boards.realtime.presence.memory import InMemoryPresence
from boards.realtime.presence.state import PresenceState

__all__ = ["PresenceState", "InMemoryPresence", "get_presence", "get_announcer", "reset_presence"]

_presence = None
_announcer = None


def get_announcer():
    """The process-wide announcer of arrivals and departures."""
    global _announcer
    if _announcer is None:
        _announcer = Announcer(get_presence(), settings.LIVEBOARD_PRESENCE_INTERVAL)
    return _announcer


def get_presence():
    """The process-wide presence store, chosen by settings.LIVEBOARD_REDIS_HOST."""
    global _presence
    if _presence is None:
        if settings.LIVEBOARD_REDIS_HOST:
            from boards.realtime.presence.redis_store import RedisPresence

            _presence = RedisPresence(
                settings.LIVEBOARD_REDIS_HOST,
                prefix=settings.LIVEBOARD_REDIS_PREFIX,
                ttl=settings.LIVEBOARD_PRESENCE_TTL,
                sweep_interval=settings.LIVEBOARD_PRESENCE_SWEEP,
                on_sweep=lambda board, user, state: get_announcer().departure(board, user, state),
            )
        else:
            _presence = InMemoryPresence()
    return _presence


async def reset_presence():
    """Drop the store (tests): clear what it holds and close its connections."""
    global _presence, _announcer
    store, _presence = _presence, None
    if _announcer is not None:
        await _announcer.close()
        _announcer = None
    if store is not None:
        await store.clear()
        if hasattr(store, "close"):
            await store.close()
