"""
Presence shared by every server process, in Redis.

Per board: a hash of live connections (channel name → entry) and, for the
`users` list, per-user connection counts and names. Every change is one Lua
script, so counts stay exact when processes race.

A process that dies without cleaning up (SIGKILL, power loss) must drop out
of the counts within a bounded time. Each process refreshes a key with a TTL
(`proc:<id>`, every ttl/3) and records which entries it owns. Every process
also sweeps: a process whose key has expired is claimed by exactly one
sweeper (SREM returns 1 once), which removes its entries and tells the
boards (`user_left`). Bound: ttl + sweep interval (default 30 + 10 s).
"""

import asyncio
import json
import logging
import os
import uuid

import redis.asyncio as aioredis
from channels_redis.utils import create_pool

from boards.realtime.presence.state import ACTIVE, AWAY, PresenceState, now_iso
from boards.wire import status_user

logger = logging.getLogger(__name__)

_ADD = """
-- KEYS: conns, ucount, uname, boards, version, owned, cstat, uactive, useen
-- ARGV: channel, entry, uid, name, board, owned_member, status, now
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 1 then
  redis.call('INCR', KEYS[5])
  redis.call('HSET', KEYS[7], ARGV[1], ARGV[7])
  if ARGV[3] ~= '' then
    redis.call('HINCRBY', KEYS[2], ARGV[3], 1)
    redis.call('HSET', KEYS[3], ARGV[3], ARGV[4])
    redis.call('HSET', KEYS[9], ARGV[3], ARGV[8])
    if ARGV[7] == 'active' then redis.call('HINCRBY', KEYS[8], ARGV[3], 1) end
  end
  redis.call('SADD', KEYS[4], ARGV[5])
  redis.call('SADD', KEYS[6], ARGV[6])
end
return redis.call('HLEN', KEYS[1])
"""

_REMOVE = """
-- KEYS: conns, ucount, uname, boards, version, owned, cstat, uactive, useen ; ARGV: channel, board, owned_member
local entry = redis.call('HGET', KEYS[1], ARGV[1])
redis.call('SREM', KEYS[6], ARGV[3])
if not entry then
  return {redis.call('HLEN', KEYS[1]), false}
end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('INCR', KEYS[5])
local status = redis.call('HGET', KEYS[7], ARGV[1])
redis.call('HDEL', KEYS[7], ARGV[1])
local uid = cjson.decode(entry)['id']
if type(uid) == 'number' then
  uid = string.format('%d', uid)
  if status == 'active' then redis.call('HINCRBY', KEYS[8], uid, -1) end
  if redis.call('HINCRBY', KEYS[2], uid, -1) <= 0 then
    redis.call('HDEL', KEYS[2], uid)
    redis.call('HDEL', KEYS[3], uid)
    redis.call('HDEL', KEYS[8], uid)
    redis.call('HDEL', KEYS[9], uid)
  end
end
local left = redis.call('HLEN', KEYS[1])
if left == 0 then redis.call('SREM', KEYS[4], ARGV[2]) end
return {left, entry}
"""

_STATUS = """
-- KEYS: conns, cstat, uactive, useen, version ; ARGV: channel, status, now
-- Returns false (not on the board) or {entry, user's active count before, after, version, viewers}.
local entry = redis.call('HGET', KEYS[1], ARGV[1])
if not entry then return false end
local old = redis.call('HGET', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
local uid = cjson.decode(entry)['id']
if type(uid) ~= 'number' then return {entry, 0, 0, 0, 0} end
uid = string.format('%d', uid)
redis.call('HSET', KEYS[4], uid, ARGV[3])
local before = tonumber(redis.call('HGET', KEYS[3], uid) or '0')
local after = before
if old ~= ARGV[2] then
  after = redis.call('HINCRBY', KEYS[3], uid, ARGV[2] == 'active' and 1 or -1)
end
local version = 0
if (before > 0) ~= (after > 0) then version = redis.call('INCR', KEYS[5]) end
return {entry, before, after, version, redis.call('HLEN', KEYS[1])}
"""

_TAKE_DIFF = """
-- KEYS: pending list, flush lock ; ARGV: lock ms
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[1]) == false then
  return false
end
local items = redis.call('LRANGE', KEYS[1], 0, -1)
redis.call('DEL', KEYS[1])
return items
"""


def _owned_member(board, channel_name):
    return f"{board}\x00{channel_name}"


class RedisPresence:
    def __init__(self, host, prefix="liveboard", ttl=30.0, sweep_interval=10.0, on_sweep=None):
        """`host`: a channels-redis host entry ({"address": url} or Sentinel), as the layer uses."""
        self.prefix = prefix
        self.ttl = ttl
        self.sweep_interval = sweep_interval
        self.on_sweep = on_sweep  # async callable(board, user, state) for swept entries
        self.process_id = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        self.redis = aioredis.Redis(connection_pool=create_pool({**host, "decode_responses": True}))
        self._add = self.redis.register_script(_ADD)
        self._remove = self.redis.register_script(_REMOVE)
        self._take_diff = self.redis.register_script(_TAKE_DIFF)
        self._status = self.redis.register_script(_STATUS)
        self._task = None

    # --- keys ---------------------------------------------------------------

    def _board_keys(self, board):
        p = f"{self.prefix}:presence:{board}"
        return [f"{p}:conns", f"{p}:ucount", f"{p}:uname", f"{self.prefix}:presence:boards", f"{p}:version"]

    def _status_keys(self, board):
        """Per connection its status; per user their active connections and lastSeen (SPEC §11)."""
        p = f"{self.prefix}:presence:{board}"
        return [f"{p}:cstat", f"{p}:uactive", f"{p}:useen"]

    def _owned_key(self, process_id):
        return f"{self.prefix}:proc:{process_id}:owned"

    def _alive_key(self, process_id):
        return f"{self.prefix}:proc:{process_id}"

    @property
    def _procs_key(self):
        return f"{self.prefix}:procs"

    # --- interface (see boards.presence) ------------------------------------

    async def add(self, board, channel_name, user, status=ACTIVE):
        await self._ensure_heartbeat()
        keys = self._board_keys(board) + [self._owned_key(self.process_id)] + self._status_keys(board)
        uid = "" if user.get("id") is None else str(user["id"])
        await self._add(
            keys=keys,
            args=[channel_name, json.dumps(user), uid, user.get("name", ""), board, _owned_member(board, channel_name), status, now_iso()],
        )
        return await self.state(board)

    async def remove(self, board, channel_name, process_id=None):
        keys = self._board_keys(board) + [self._owned_key(process_id or self.process_id)] + self._status_keys(board)
        _, entry = await self._remove(keys=keys, args=[channel_name, board, _owned_member(board, channel_name)])
        user = json.loads(entry) if entry else None
        return user, await self.state(board)

    async def state(self, board):
        conns, _, uname, _, version = self._board_keys(board)
        _, uactive, useen = self._status_keys(board)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hlen(conns)
            pipe.hgetall(uname)
            pipe.get(version)
            pipe.hgetall(uactive)
            pipe.hgetall(useen)
            viewers, names, ver, active, seen = await pipe.execute()
        users = [
            status_user(u, ACTIVE if int(active.get(str(u["id"]), 0)) > 0 else AWAY, seen.get(str(u["id"])))
            for u in _users(names)
        ]
        return PresenceState(viewers=int(viewers), users=users, version=int(ver or 0))

    async def set_status(self, board, channel_name, status):
        """Set one connection's status: (user, user's status changed, their status entry,
        version, viewers), or None when the connection is not on the board."""
        conns, _, _, _, version = self._board_keys(board)
        cstat, uactive, useen = self._status_keys(board)
        seen = now_iso()
        got = await self._status(keys=[conns, cstat, uactive, useen, version], args=[channel_name, status, seen])
        if not got:
            return None
        entry, before, after, ver, viewers = got
        user = json.loads(entry)
        if user.get("id") is None:
            return user, False, None, 0, int(viewers)
        combined = ACTIVE if int(after) > 0 else AWAY
        return user, (int(before) > 0) != (int(after) > 0), status_user(user, combined, seen), int(ver), int(viewers)

    async def touch(self, board, user_id):
        """Refresh the user's lastSeen on the board (throttled by the caller)."""
        _, _, useen = self._status_keys(board)
        _, ucount, _, _, _ = self._board_keys(board)
        if await self.redis.hexists(ucount, str(user_id)):
            await self.redis.hset(useen, str(user_id), now_iso())

    async def push_diff(self, board, kind, user):
        key = f"{self.prefix}:presence:{board}:pending"
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.rpush(key, json.dumps([kind, user]))
            pipe.expire(key, 3600)
            await pipe.execute()

    async def take_diff(self, board, interval):
        """Queued (joined, left, more, changed) — or None when another process flushed this interval."""
        p = f"{self.prefix}:presence:{board}"
        items = await self._take_diff(keys=[f"{p}:pending", f"{p}:flush"], args=[max(1, int(interval * 1000))])
        if items is None:
            return None
        diff = {"joined": [], "left": [], "changed": []}
        for item in items:
            kind, user = json.loads(item)
            diff[kind].append(user)
        return diff["joined"], diff["left"], False, diff["changed"]

    async def clear(self):
        """Forget everything under our prefix (tests)."""
        async for key in self.redis.scan_iter(match=f"{self.prefix}:presence:*"):
            await self.redis.delete(key)
        async for key in self.redis.scan_iter(match=f"{self.prefix}:proc*"):
            await self.redis.delete(key)

    async def close(self):
        if self._task:
            self._task.cancel()
            self._task = None
        await self.redis.aclose()

    # --- liveness -------------------------------------------------------------

    async def _ensure_heartbeat(self):
        if self._task is None or self._task.done():
            await self.beat()
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def beat(self):
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.set(self._alive_key(self.process_id), "1", px=int(self.ttl * 1000))
            pipe.sadd(self._procs_key, self.process_id)
            await pipe.execute()

    async def _run(self):
        interval = min(self.ttl / 3, self.sweep_interval)
        while True:
            await asyncio.sleep(interval)
            try:
                await self.beat()
                await self.sweep()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("presence heartbeat/sweep failed")

    async def sweep(self):
        """Remove the entries of processes that stopped beating; returns how many."""
        removed = 0
        for process_id in await self.redis.smembers(self._procs_key):
            if process_id == self.process_id or await self.redis.exists(self._alive_key(process_id)):
                continue
            if not await self.redis.srem(self._procs_key, process_id):
                continue  # another sweeper claimed it
            owned_key = self._owned_key(process_id)
            for member in await self.redis.smembers(owned_key):
                board, channel_name = member.split("\x00", 1)
                user, state = await self.remove(board, channel_name, process_id=process_id)
                if user is not None:
                    removed += 1
                    if self.on_sweep is not None:
                        await self.on_sweep(board, user, state)
            await self.redis.delete(owned_key)
        return removed


def _users(names):
    return sorted(({"id": int(uid), "name": name} for uid, name in names.items()), key=lambda u: u["id"])
