"""Presence for one process (embedded mode): a dict of boards → {channel_name: user}."""

from boards.realtime.presence.state import PresenceState


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
