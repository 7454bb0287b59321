"""Presence: coalesced frames on busy boards, and the Redis store's guarantees."""

import asyncio
import os
import uuid

import pytest
import redis

from boards.realtime.presence import InMemoryPresence
from boards.realtime.presence.redis_store import RedisPresence
from tests.conftest import service_missing
from tests.support.wsclient import join

ANON = {"id": None, "name": "anonymous"}


async def drain(comm, timeout=0.1):
    """Every frame waiting for `comm` (receive_nothing does not cancel the app on timeout)."""
    frames = []
    while not await comm.receive_nothing(timeout=timeout):
        frames.append(await comm.receive_json_from())
    return frames


@pytest.mark.django_db(transaction=True)
async def test_busy_board_gets_coalesced_presence_frames(connect, settings):
    settings.LIVEBOARD_PRESENCE_COALESCE_THRESHOLD = 2
    settings.LIVEBOARD_PRESENCE_INTERVAL = 0.3
    alice = await connect("alice")
    await join(alice)
    bob = await connect("bob")
    await join(bob)
    assert (await alice.receive_json_from(timeout=2))["type"] == "user_joined"  # 2 viewers: per-join

    crowd = [await connect(None) for _ in range(6)]
    for comm in crowd:
        await join(comm)
    await asyncio.sleep(0.8)
    frames = await drain(alice)
    assert frames, "no presence frame"
    assert all(f["type"] == "presence" for f in frames), frames
    assert len(frames) <= 2  # at most one per interval, not one per join
    assert sum(len(f["joined"]) for f in frames) == 6
    assert frames[-1]["viewers"] == 8
    assert frames[-1]["boardId"] == "board-1"

    for comm in crowd[:3]:
        await comm.disconnect()
    await asyncio.sleep(0.8)
    frames = await drain(alice)
    assert sum(len(f["left"]) for f in frames) == 3
    assert frames[-1]["viewers"] == 5
    assert frames[-1]["left"][0] == ANON


@pytest.mark.django_db(transaction=True)
async def test_join_storm_costs_linear_frames_and_stays_exact(connect, settings):
    settings.LIVEBOARD_PRESENCE_COALESCE_THRESHOLD = 50
    settings.LIVEBOARD_PRESENCE_INTERVAL = 0.2
    first = await connect("alice")
    await join(first)
    storm = []
    for _ in range(200):
        comm = await connect(None)
        await join(comm)
        storm.append(comm)
    await asyncio.sleep(0.5)
    frames = await drain(first)
    per_join = [f for f in frames if f["type"] == "user_joined"]
    coalesced = [f for f in frames if f["type"] == "presence"]
    assert len(per_join) == 50 - 1  # until the board got busy
    assert sum(len(f["joined"]) for f in coalesced) == 200 - 49
    assert frames[-1]["viewers"] == 201
    # Every viewer got O(1) frames per interval, not one per arrival: the
    # last arrival saw none at all beyond its own `joined`.
    assert len(await drain(storm[-1])) <= 1


# --- the Redis store ----------------------------------------------------------


@pytest.fixture
async def redis_stores():
    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        service_missing("Redis", f"{url}: {exc}")
    prefix = f"lbtest-{uuid.uuid4().hex[:8]}"
    stores = [RedisPresence({"address": url}, prefix=prefix, ttl=1.0, sweep_interval=0.2) for _ in range(2)]
    yield stores
    await stores[0].clear()
    for store in stores:
        await store.close()


async def test_redis_presence_counts_connections_and_distinct_users(redis_stores):
    a, b = redis_stores
    alice = {"id": 1, "name": "alice"}
    await a.add("board-1", "ch-1", alice)
    await b.add("board-1", "ch-2", alice)  # second tab, other process
    state = await b.add("board-1", "ch-3", ANON)
    assert state.viewers == 3
    named = lambda users: [{"id": u["id"], "name": u["name"]} for u in users]  # noqa: E731  (+ status, lastSeen: test_status.py)
    assert named(state.users) == [alice]
    user, state = await a.remove("board-1", "ch-1")
    assert user == alice and state.viewers == 2 and named(state.users) == [alice]
    user, state = await b.remove("board-1", "ch-2")
    assert state.users == []
    assert (await a.remove("board-1", "ch-1"))[0] is None  # already gone
    assert state.version < (await a.add("board-1", "ch-4", alice)).version


async def test_redis_sweep_removes_a_dead_process_once(redis_stores):
    dead, alive = redis_stores
    swept = []

    async def on_sweep(board, user, state):
        swept.append((board, user["name"], state.viewers))

    alive.on_sweep = on_sweep
    await dead.add("board-1", "dead-1", {"id": 2, "name": "bob"})
    await dead.add("board-2", "dead-2", ANON)
    await alive.add("board-1", "alive-1", {"id": 1, "name": "alice"})
    await dead.close()  # stops beating, like a killed process
    await alive.sweep()
    assert swept == []  # its key has not expired yet
    await asyncio.sleep(1.5)  # TTL 1 s; alive's own heartbeat task also sweeps
    await alive.sweep()
    assert sorted(swept) == [("board-1", "bob", 1), ("board-2", "anonymous", 0)]  # once each
    assert (await alive.state("board-1")).viewers == 1
    assert (await alive.state("board-2")).viewers == 0


async def test_redis_coalesced_flush_is_once_per_interval_across_processes(redis_stores):
    a, b = redis_stores
    await a.push_diff("board-1", "joined", {"id": 1, "name": "alice"})
    await b.push_diff("board-1", "left", ANON)
    taken = await a.take_diff("board-1", 0.5)
    assert taken == ([{"id": 1, "name": "alice"}], [ANON], False, [])
    await b.push_diff("board-1", "joined", ANON)
    assert await b.take_diff("board-1", 0.5) is None  # a owns this interval
    await asyncio.sleep(0.6)
    assert await b.take_diff("board-1", 0.5) == ([ANON], [], False, [])


async def test_in_memory_store_matches_the_interface():
    store = InMemoryPresence()
    state = await store.add("b", "c1", {"id": 1, "name": "alice"})
    assert (state.viewers, [(u["id"], u["name"], u["status"]) for u in state.users]) == (1, [(1, "alice", "active")])
    await store.push_diff("b", "joined", ANON)
    assert await store.take_diff("b", 1) == ([ANON], [], False, [])
    assert (await store.remove("b", "c1"))[1].viewers == 0
