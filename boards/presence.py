"""
Who is looking at which board.

A small interface with one in-process implementation (embedded mode). The
consumer only calls `add`, `remove` and `state`, so a Redis-backed store
that spans processes can replace it without touching the consumer.
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
    """The process-wide presence store."""
    global _presence
    if _presence is None:
        _presence = InMemoryPresence()
    return _presence
