"""
Who is looking at which board.

A small interface — `add`, `remove`, `state` — with two stores: this
in-process one (embedded mode) and boards.presence_redis (Redis configured),
which spans processes and drops the entries of a dead process.
Entries are keyed by channel name: one user with two tabs counts twice in
`viewers` but once in `users`.
"""

from dataclasses import dataclass, field


@dataclass
class PresenceState:
    viewers: int = 0
    users: list = field(default_factory=list)  # distinct logged-in users, {"id","name"}
    # Bumped by every add/remove of the board. A joiner drops presence frames
    # older than its own join: the layer may deliver a frame published just
    # before the join (Redis pub/sub is read asynchronously).
    version: int = 0


def _state(entries, version):
    users = {}
    for user in entries.values():
        if user.get("id") is not None:
            users.setdefault(user["id"], user)
    return PresenceState(viewers=len(entries), users=sorted(users.values(), key=lambda u: u["id"]), version=version)


class InMemoryPresence:
    """Presence for one process: a dict of boards → {channel_name: user}."""

    def __init__(self):
        self._boards = {}
        self._versions = {}
        self._pending = {}  # board -> {"joined": [...], "left": [...]} for coalesced presence

    def _bump(self, board):
        self._versions[board] = self._versions.get(board, 0) + 1
        return self._versions[board]

    async def add(self, board, channel_name, user):
        self._boards.setdefault(board, {})[channel_name] = user
        return _state(self._boards[board], self._bump(board))

    async def remove(self, board, channel_name):
        """Drop the connection; returns (user, new state) or (None, state) if absent."""
        entries = self._boards.get(board, {})
        user = entries.pop(channel_name, None)
        state = _state(entries, self._bump(board) if user else self._versions.get(board, 0))
        if not entries:
            self._boards.pop(board, None)
        return user, state

    async def state(self, board):
        return _state(self._boards.get(board, {}), self._versions.get(board, 0))

    async def push_diff(self, board, kind, user):
        self._pending.setdefault(board, {"joined": [], "left": []})[kind].append(user)

    async def take_diff(self, board, interval):
        """(joined, left, more) queued for the board; one process, so never contended."""
        pending = self._pending.pop(board, {"joined": [], "left": []})
        return pending["joined"], pending["left"], False

    async def clear(self):
        self._boards.clear()
        self._versions.clear()
        self._pending.clear()


_presence = None
_batcher = None


def get_batcher():
    """The process-wide coalescer of busy boards' presence frames."""
    global _batcher
    if _batcher is None:
        from django.conf import settings

        from boards.realtime.presence.batch import PresenceBatcher

        _batcher = PresenceBatcher(get_presence(), settings.LIVEBOARD_PRESENCE_INTERVAL)
    return _batcher


def get_presence():
    """The process-wide presence store, chosen by settings.REDIS_URL."""
    global _presence
    if _presence is None:
        from django.conf import settings

        if settings.LIVEBOARD_REDIS_HOST:
            from boards.realtime import broadcast
            from boards.realtime.presence.redis_store import RedisPresence

            _presence = RedisPresence(
                settings.LIVEBOARD_REDIS_HOST,
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
    global _presence, _batcher
    store, _presence = _presence, None
    if _batcher is not None:
        await _batcher.close()
        _batcher = None
    if store is not None:
        await store.clear()
        if hasattr(store, "close"):
            await store.close()
