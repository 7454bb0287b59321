"""
Telling a board's room who arrived and left (SPEC §4), quiet or busy.

Per-join `user_joined`/`user_left` frames cost O(N²) when N viewers arrive
together. Above LIVEBOARD_PRESENCE_COALESCE_THRESHOLD viewers a board's
arrivals and departures are queued instead, and at most one
`{"type":"presence","boardId","viewers","joined":[…],"left":[…]}` per board
per LIVEBOARD_PRESENCE_INTERVAL goes to the room (with `changed`: users
whose status changed, SPEC §11 — so N viewers going away together cost
N frames per interval, not N²) — like Phoenix's
presence_diff. The queue and the per-interval flush lock live in the
presence store, so with Redis the "one frame per interval" holds across
every process.
"""

import asyncio
import logging

from django.conf import settings

from boards import wire
from boards.realtime import broadcast

logger = logging.getLogger(__name__)


def is_busy(state):
    return state.viewers > settings.LIVEBOARD_PRESENCE_COALESCE_THRESHOLD


class Announcer:
    """Quiet boards get `user_joined`/`user_left` at once; busy ones a coalesced `presence` frame."""

    def __init__(self, store, interval):
        self.store = store
        self.interval = interval
        self.dirty = set()
        self._task = None

    async def announce(self, board, kind, state, user, exclude=None):
        """`user` arrived (`user_joined`) or left (`user_left`); `state` is the board's after it."""
        if is_busy(state):
            await self.note(board, "joined" if kind == "user_joined" else "left", user)
            return
        frame = wire.presence_change(kind, board, state.viewers, user)
        await broadcast.send_presence(board, frame, state.version, exclude)

    async def status_changed(self, board, viewers, user, version, exclude=None):
        """`user`'s combined status on the board changed (SPEC §11): `status_changed`
        at once on a quiet board; on a busy one, in the next `presence` frame's `changed`."""
        if viewers > settings.LIVEBOARD_PRESENCE_COALESCE_THRESHOLD:
            await self.note(board, "changed", user)
            return
        await broadcast.send_presence(board, wire.status_changed(board, user), version, exclude)

    async def departure(self, board, user, state):
        """A connection of a dead process was swept from presence."""
        await self.announce(board, "user_left", state, user)

    async def note(self, board, kind, user):
        """Queue `user` as joined/left on `board`; a flush follows within an interval."""
        await self.store.push_diff(board, kind, user)
        self.dirty.add(board)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self):
        while self.dirty:
            await asyncio.sleep(self.interval)
            for board in list(self.dirty):
                try:
                    await self.flush(board)
                except Exception:
                    logger.exception("presence flush for %s failed", board)

    async def flush(self, board):
        """Send the board's queued diff, unless another flush owns this interval."""
        taken = await self.store.take_diff(board, self.interval)
        if taken is None:
            return  # someone else flushed this interval; ours stays queued
        joined, left, more, changed = taken
        if not more:
            self.dirty.discard(board)
        if joined or left or changed:
            state = await self.store.state(board)
            latest = {u["id"]: u for u in changed}  # a user's last status of the interval
            frame = wire.presence_batch(board, state.viewers, joined, left, list(latest.values()))
            await broadcast.send_presence(board, frame, state.version)

    async def close(self):
        if self._task is not None:
            self._task.cancel()
            self._task = None
