"""
Editing marks ("bob is editing this card", SPEC §11), mixed into
BoardConsumer.

`{"type":"editing","taskId","editing"}` from an editor/owner joined to the
task's board sets or clears a mark; the board's other connections get an
`editing` frame when a mark appears or goes — not on each refresh, so a
client re-sending `editing:true` every few seconds costs one small store
write and no broadcast. A mark goes with `editing:false`, the connection's
leave or drop, the task's deletion (the task_deleted event carries
`task_gone`, broadcast.event_message), or LIVEBOARD_EDITING_TTL seconds
without a refresh (a timer of the connection that holds it). Marks are
ephemeral: no seq, not logged, not replayed; `joined` lists the current
ones. They are kept where presence is — a Redis hash per board in scaled
mode (so `joined` on any process sees them; each entry carries its expiry,
so a dead process's marks vanish from `joined` by themselves), a dict in
embedded mode. One mark appearing on a board of N viewers is N-1 frames.
"""

import asyncio
import json
import time

from channels.db import database_sync_to_async
from django.conf import settings

from boards import permissions, validation, wire
from boards.errors import Forbidden, NotFound
from boards.models import Board
from boards.realtime import broadcast
from boards.realtime.presence import get_presence


class MemoryMarks:
    """One process: board → {(task id, user id): (user, channel, expires)}."""

    def __init__(self):
        self.boards = {}

    async def set(self, board, task_id, user, channel, ttl):
        """Set or refresh; True when the mark is new (others must be told)."""
        marks, now = self.boards.setdefault(board, {}), time.time()
        old = marks.get((task_id, user["id"]))
        marks[(task_id, user["id"])] = (user, channel, now + ttl)
        return old is None or old[2] <= now

    async def clear(self, board, task_id, user_id, channel):
        """Drop the mark if `channel` holds it; True if it did."""
        marks = self.boards.get(board, {})
        old = marks.get((task_id, user_id))
        if old is None or old[1] != channel:
            return False
        del marks[(task_id, user_id)]
        return True

    async def marks(self, board):
        now = time.time()
        return [wire.editing_mark(t, u) for (t, _), (u, _, exp) in sorted(self.boards.get(board, {}).items()) if exp > now]


_SET = """
-- KEYS: the board's marks ; ARGV: field, entry, now, expires
local old = redis.call('HGET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], 3600)
if not old then return 1 end
if cjson.decode(old)['expires'] <= tonumber(ARGV[3]) then return 1 end
return 0
"""

_CLEAR = """
-- KEYS: the board's marks ; ARGV: field, channel
local old = redis.call('HGET', KEYS[1], ARGV[1])
if not old then return 0 end
if cjson.decode(old)['channel'] ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
return 1
"""


class RedisMarks:
    """Every process: a hash per board, field "task:user" → {user, channel, expires}."""

    def __init__(self, redis, prefix):
        self.redis, self.prefix = redis, prefix
        self._set = redis.register_script(_SET)
        self._clear = redis.register_script(_CLEAR)

    def _key(self, board):
        return f"{self.prefix}:presence:{board}:editing"

    async def set(self, board, task_id, user, channel, ttl):
        now = time.time()
        entry = json.dumps({"taskId": task_id, "user": user, "channel": channel, "expires": now + ttl})
        return bool(await self._set(keys=[self._key(board)], args=[f"{task_id}:{user['id']}", entry, now, now + ttl]))

    async def clear(self, board, task_id, user_id, channel):
        return bool(await self._clear(keys=[self._key(board)], args=[f"{task_id}:{user_id}", channel]))

    async def marks(self, board):
        now, live = time.time(), []
        for raw in (await self.redis.hgetall(self._key(board))).values():
            mark = json.loads(raw)
            if mark["expires"] > now:
                live.append(wire.editing_mark(mark["taskId"], mark["user"]))
        return sorted(live, key=lambda m: (m["taskId"], m["user"]["id"]))


_marks = (None, None)


def get_marks():
    """The marks store beside the process's presence store (rebuilt when that is reset)."""
    global _marks
    store = get_presence()
    if _marks[0] is not store:
        redis = getattr(store, "redis", None)
        _marks = (store, RedisMarks(redis, store.prefix) if redis is not None else MemoryMarks())
    return _marks[1]


@database_sync_to_async
def _board_to_edit(user, task_id):
    """The slug of the task's board, if `user` may change it (NotFound / Forbidden)."""
    board = Board.objects.filter(lists__tasks__pk=task_id).first()
    if board is None:
        raise NotFound(f"Unknown task: {task_id}")
    permissions.check_edit(user, board)
    return board.slug


class EditingHandlers:
    """`editing` requests and the connection's marks (self.mark_timers: (board, task) → timer)."""

    async def on_editing(self, message, ref):
        if self.me["id"] is None:
            raise Forbidden("Log in to edit tasks")
        data = self._validate(validation.EditingMessage, message)
        task_id, on = data["taskId"], data["editing"]
        slug = await _board_to_edit(self.user, task_id)
        if slug not in self.joined:
            await self._send(wire.error("not_joined", f"Join board {slug} before editing its tasks", ref))
            return
        if on:
            new = await get_marks().set(slug, task_id, self.me, self.channel_name, settings.LIVEBOARD_EDITING_TTL)
            self._arm_mark(slug, task_id)
            if new:
                await self._tell_editing(slug, task_id, True)
        else:
            await self._drop_mark(slug, task_id)
        await self._send(wire.reply(ref, taskId=task_id, editing=on))

    async def current_marks(self, slug):
        return await get_marks().marks(slug)

    def _arm_mark(self, slug, task_id):
        timers = self.__dict__.setdefault("mark_timers", {})
        old = timers.pop((slug, task_id), None)
        if old is not None:
            old.cancel()
        loop = asyncio.get_running_loop()
        timers[(slug, task_id)] = loop.call_later(
            settings.LIVEBOARD_EDITING_TTL, lambda: loop.create_task(self._drop_mark(slug, task_id))
        )

    async def _drop_mark(self, slug, task_id):
        timer = self.__dict__.get("mark_timers", {}).pop((slug, task_id), None)
        if timer is not None:
            timer.cancel()
        # Compared by channel: a mark another tab of ours took over is not ours to clear.
        if await get_marks().clear(slug, task_id, self.me["id"], self.channel_name):
            await self._tell_editing(slug, task_id, False)

    async def drop_marks(self, slug=None):
        """Leaving `slug` (None: every board, a disconnect): our marks there go."""
        for board, task_id in [k for k in self.__dict__.get("mark_timers", {}) if slug is None or k[0] == slug]:
            await self._drop_mark(board, task_id)

    def task_gone(self, slug, task_id):
        """A task_deleted event passed by (rooms._event_text): its mark goes, if we hold one."""
        if (slug, task_id) in self.__dict__.get("mark_timers", {}):
            asyncio.get_running_loop().create_task(self._drop_mark(slug, task_id))

    async def _tell_editing(self, slug, task_id, on):
        user = {"id": self.me["id"], "name": self.me["name"]}
        await broadcast.send_ephemeral(slug, wire.editing(slug, task_id, user, on), exclude=self.channel_name)
