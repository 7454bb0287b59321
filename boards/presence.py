"""
Who is looking at which board.

A small interface — `add`, `remove`, `state` — with two stores: this
in-process one (embedded mode) and boards.presence_redis (REDIS_URL set),
which spans processes and drops the entries of a dead process.
Entries are keyed by channel name: one user with two tabs counts twice in
`viewers` but once in `users`.
"""

from dataclasses import dataclass, field


@dataclass
class PresenceState:
    viewers: int = 0
    users: list = field(default_factory=list)  # distinct logged-in users, {"id","name"}


def _state(entries):
    users = {}
    for user in entries.values():
        if user.get("id") is not None:
            users.setdefault(user["id"], user)
    return PresenceState(viewers=len(entries), users=sorted(users.values(), key=lambda u: u["id"]))


class InMemoryPresence:
    """Presence for one process: a dict of boards → {channel_name: user}."""

    def __init__(self):
        self._boards = {}

    async def add(self, board, channel_name, user):
        self._boards.setdefault(board, {})[channel_name] = user
        return _state(self._boards[board])

    async def remove(self, board, channel_name):
        """Drop the connection; returns (user, new state) or (None, state) if absent."""
        entries = self._boards.get(board, {})
        user = entries.pop(channel_name, None)
        state = _state(entries)
        if not entries:
            self._boards.pop(board, None)
        return user, state

    async def state(self, board):
        return _state(self._boards.get(board, {}))

    async def clear(self):
        self._boards.clear()


_presence = None


def get_presence():
    """The process-wide presence store, chosen by settings.REDIS_URL."""
    global _presence
    if _presence is None:
        from django.conf import settings

        if settings.REDIS_URL:
            from . import broadcast
            from .presence_redis import RedisPresence

            _presence = RedisPresence(
                settings.REDIS_URL,
                prefix=settings.LIVEBOARD_REDIS_PREFIX,
                ttl=settings.LIVEBOARD_PRESENCE_TTL,
                sweep_interval=settings.LIVEBOARD_PRESENCE_SWEEP,
                on_sweep=broadcast.announce_departure,
            )
        else:
            _presence = InMemoryPresence()
    return _presence


async def reset_presence():
    """Drop the store (tests): clear what it holds and close its connections."""
    global _presence
    store, _presence = _presence, None
    if store is not None:
        await store.clear()
        if hasattr(store, "close"):
            await store.close()
