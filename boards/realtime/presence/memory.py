"""Presence for one process (embedded mode): a dict of boards → {channel_name: user}."""

from boards.realtime.presence.state import ACTIVE, AWAY, PresenceState, now_iso
from boards.wire import status_user


class InMemoryPresence:
    """Presence for one process: a dict of boards → {channel_name: user}."""

    def __init__(self):
        self._boards = {}
        self._versions = {}
        self._pending = {}  # board -> {"joined": [...], "left": [...], "changed": [...]} for coalesced presence
        self._status = {}  # board -> {channel_name: "active" | "away"} (SPEC §11)
        self._seen = {}  # board -> {user id: lastSeen}

    def _bump(self, board):
        self._versions[board] = self._versions.get(board, 0) + 1
        return self._versions[board]

    def _state(self, board, version):
        entries, statuses, seen = self._boards.get(board, {}), self._status.get(board, {}), self._seen.get(board, {})
        users, active = {}, set()
        for channel, user in entries.items():
            if user.get("id") is not None:
                users.setdefault(user["id"], user)
                if statuses.get(channel, ACTIVE) == ACTIVE:
                    active.add(user["id"])
        listed = [
            status_user(u, ACTIVE if u["id"] in active else AWAY, seen.get(u["id"]))
            for u in sorted(users.values(), key=lambda u: u["id"])
        ]
        return PresenceState(viewers=len(entries), users=listed, version=version)

    async def add(self, board, channel_name, user, status=ACTIVE):
        self._boards.setdefault(board, {})[channel_name] = user
        self._status.setdefault(board, {})[channel_name] = status
        if user.get("id") is not None:
            self._seen.setdefault(board, {})[user["id"]] = now_iso()
        return self._state(board, self._bump(board))

    async def remove(self, board, channel_name):
        """Drop the connection; returns (user, new state) or (None, state) if absent."""
        entries = self._boards.get(board, {})
        user = entries.pop(channel_name, None)
        self._status.get(board, {}).pop(channel_name, None)
        if user is not None and user.get("id") is not None and not any(u.get("id") == user["id"] for u in entries.values()):
            self._seen.get(board, {}).pop(user["id"], None)
        state = self._state(board, self._bump(board) if user else self._versions.get(board, 0))
        if not entries:
            self._boards.pop(board, None)
            self._status.pop(board, None)
            self._seen.pop(board, None)
        return user, state

    async def state(self, board):
        return self._state(board, self._versions.get(board, 0))

    def _user_active(self, board, user_id):
        entries, statuses = self._boards.get(board, {}), self._status.get(board, {})
        return any(u.get("id") == user_id and statuses.get(c, ACTIVE) == ACTIVE for c, u in entries.items())

    async def set_status(self, board, channel_name, status):
        """(user, user's status changed, their status entry, version, viewers), or None if not on the board."""
        user = self._boards.get(board, {}).get(channel_name)
        if user is None:
            return None
        uid = user.get("id")
        before = uid is not None and self._user_active(board, uid)
        self._status[board][channel_name] = status
        if uid is None:
            return user, False, None, 0, len(self._boards[board])
        after = self._user_active(board, uid)
        seen = self._seen.setdefault(board, {})[uid] = now_iso()
        version = self._bump(board) if before != after else 0
        entry = status_user(user, ACTIVE if after else AWAY, seen)
        return user, before != after, entry, version, len(self._boards[board])

    async def touch(self, board, user_id):
        if user_id in self._seen.get(board, {}):
            self._seen[board][user_id] = now_iso()

    async def push_diff(self, board, kind, user):
        self._pending.setdefault(board, {"joined": [], "left": [], "changed": []})[kind].append(user)

    async def take_diff(self, board, interval):
        """(joined, left, more, changed) queued for the board; one process, so never contended."""
        pending = self._pending.pop(board, {"joined": [], "left": [], "changed": []})
        return pending["joined"], pending["left"], False, pending["changed"]

    async def clear(self):
        self._boards.clear()
        self._versions.clear()
        self._pending.clear()
        self._status.clear()
        self._seen.clear()
