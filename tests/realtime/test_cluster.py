"""
Two real daphne processes sharing one Redis and one database (issue #3).

Clients talk real WebSockets to real servers; nothing is mocked. Presence
timing is shortened through the environment (TTL 2 s, sweep 0.5 s) so the
dead-process test finishes quickly; the production default is 30 + 10 s.
"""

import asyncio
import json
import urllib.request
import uuid

import pytest
import redis
import websockets
from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model

from boards.models import Board, BoardEvent, List, Task
from tests.conftest import session_cookie
from tests.support.api import actor
from tests.support.servers import Daphne, manage

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis]

@pytest.fixture
def cluster(production_passwords, redis_url):
    prefix = f"lbtest-{uuid.uuid4().hex[:8]}"
    env = dict(
        LIVEBOARD_REDIS_PREFIX=prefix,
        LIVEBOARD_PRESENCE_TTL=2,
        LIVEBOARD_PRESENCE_SWEEP=0.5,
        LIVEBOARD_RATE_LIMIT=1000,
        LIVEBOARD_RATE_BURST=1000,
    )
    servers = [Daphne(REDIS_URL=redis_url, **env) for _ in range(2)]
    try:
        for server in servers:
            server.start()
        yield servers, prefix, env
    finally:
        for server in servers:
            server.stop()
        client = redis.Redis.from_url(redis_url)
        for key in client.scan_iter(match=f"{prefix}*"):
            client.delete(key)


class Client:
    """A WebSocket client that keeps frames in order and matches replies by ref."""

    def __init__(self, ws):
        self.ws = ws
        self.refs = 0

    @classmethod
    async def open(cls, server, username=None):
        headers = {"Origin": f"http://127.0.0.1:{server.port}"}
        if username:
            user = await sync_to_async(get_user_model().objects.get)(username=username)
            headers["Cookie"] = (await sync_to_async(session_cookie)(user)).decode()
        ws = await websockets.connect(server.ws_url, additional_headers=headers, max_queue=None, open_timeout=30)
        return cls(ws)

    async def recv(self, timeout=5):
        return json.loads(await asyncio.wait_for(self.ws.recv(), timeout))

    async def request(self, **frame):
        self.refs += 1
        frame["ref"] = ref = f"r{self.refs}"
        await self.ws.send(json.dumps(frame))
        while True:
            reply = await self.recv()
            if reply.get("ref") == ref:
                return reply

    async def join(self, board="board-1", **extra):
        reply = await self.request(type="join", boardId=board, **extra)
        assert reply["type"] == "joined", reply
        return reply

    async def frames_until(self, predicate, timeout=10):
        """Collect frames until one satisfies predicate; returns them all."""
        got = []
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            frame = await self.recv(timeout=max(remaining, 0.01))
            got.append(frame)
            if predicate(frame):
                return got

    async def quiet(self, timeout=0.5):
        try:
            frame = await self.recv(timeout)
        except asyncio.TimeoutError:
            return True
        raise AssertionError(f"unexpected frame {frame}")

    async def close(self):
        await self.ws.close()


def http(server, method, path, body=None, token=None):
    request = urllib.request.Request(
        server.url + path, method=method, data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json", **({"Authorization": f"Token {token}"} if token else {})},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read() or b"null")


async def token(server, username):
    status, body = await asyncio.to_thread(
        http, server, "POST", "/api/auth/token/", {"username": username, "password": "liveboard-demo"}
    )
    return body["token"]


async def test_one_room_spans_both_processes(cluster):
    (a, b), _, _ = cluster
    on_a = await Client.open(a, "alice")
    on_b = await Client.open(b, "bob")
    assert (await on_a.join())["viewers"] == 1
    joined = await on_b.join()
    assert joined["viewers"] == 2
    assert [u["name"] for u in joined["users"]] == ["alice", "bob"]
    frame = await on_a.recv()
    assert frame["type"] == "user_joined" and frame["viewers"] == 2 and frame["user"]["name"] == "bob"

    # REST on A reaches B's client (and A's).
    key = await token(a, "alice")
    status, task = await asyncio.to_thread(
        http, a, "POST", "/api/tasks/", {"title": "via A", "listId": "list-todo"}, key
    )
    assert status == 201
    for client in (on_a, on_b):
        frame = await client.recv()
        assert frame["type"] == "task_created" and frame["seq"] == task["seq"] == 5

    # A WS change on B reaches A, not the sender.
    ack = await on_b.request(type="move_task", taskId=task["id"], listId="list-done", position=0)
    assert ack["type"] == "ack" and ack["seq"] == 6
    frame = await on_a.recv()
    assert frame == {"type": "task_moved", "boardId": "board-1", "seq": 6, "task": ack["task"], "actor": actor("bob")}
    await on_b.quiet()

    # A change from `manage.py shell` in a third process reaches both.
    await asyncio.to_thread(
        manage, "shell", "-c",
        "from boards.models import Task; t = Task.objects.get(title='via A'); t.title = 'via shell'; t.save()",
        check=True, REDIS_URL=a.env["REDIS_URL"], LIVEBOARD_REDIS_PREFIX=a.env["LIVEBOARD_REDIS_PREFIX"],
    )
    for client in (on_a, on_b):
        frame = await client.recv()
        assert frame["type"] == "task_updated" and frame["seq"] == 7
        assert frame["task"]["title"] == "via shell"

    await on_b.close()
    frame = await on_a.recv()
    assert frame["type"] == "user_left" and frame["viewers"] == 1
    await on_a.close()


async def test_killed_process_drops_out_of_presence(cluster):
    (a, b), prefix, env = cluster
    watcher = await Client.open(a, "alice")
    await watcher.join()
    doomed = [await Client.open(b, name) for name in ("bob", "carol", None)]
    for client in doomed:
        await client.join()
    frames = [await watcher.recv() for _ in doomed]
    assert [f["viewers"] for f in frames] == [2, 3, 4]

    b.kill()
    started = asyncio.get_running_loop().time()
    left = []
    while len(left) < 3:
        frame = await watcher.recv(timeout=15)
        assert frame["type"] == "user_left", frame
        left.append(frame)
    elapsed = asyncio.get_running_loop().time() - started
    assert sorted(f["user"]["name"] for f in left) == ["anonymous", "bob", "carol"]
    assert left[-1]["viewers"] == 1
    bound = float(env["LIVEBOARD_PRESENCE_TTL"]) + float(env["LIVEBOARD_PRESENCE_SWEEP"]) * 2 + 2
    assert elapsed < bound, f"ghosts lived {elapsed:.1f}s"

    newcomer = await Client.open(a)
    assert (await newcomer.join())["viewers"] == 2
    conns = redis.Redis.from_url(a.env["REDIS_URL"]).hlen(f"{prefix}:presence:board-1:conns")
    assert conns == 2


async def test_concurrent_creates_on_both_processes_get_contiguous_seqs(cluster):
    (a, b), _, _ = cluster
    writers = [await Client.open(server, name) for server in (a, b) for name in ("alice", "bob")]
    watchers = [await Client.open(server) for server in (a, b)]
    for client in writers + watchers:
        await client.join()
    for client in writers + watchers:  # drain presence frames
        while True:
            try:
                await client.recv(timeout=0.5)
            except asyncio.TimeoutError:
                break

    per_writer = 50

    async def write(client, n):
        seqs = []
        for i in range(per_writer):
            ack = await client.request(type="create_task", boardId="board-1", listId="list-todo", title=f"load-{n}-{i}")
            assert ack["type"] == "ack", ack
            seqs.append(ack["seq"])
        return seqs

    acked = await asyncio.gather(*(write(c, n) for n, c in enumerate(writers)))
    all_acked = sorted(s for seqs in acked for s in seqs)
    total = per_writer * len(writers)
    assert all_acked == list(range(5, 5 + total))

    for watcher in watchers:
        seen = []
        while len(seen) < total:
            frame = await watcher.recv(timeout=10)
            if frame["type"] == "task_created":
                seen.append(frame["seq"])
        assert sorted(seen) == all_acked  # every event, once each
        await watcher.quiet(0.3)

    assert (await sync_to_async(Board.objects.get)(slug="board-1")).last_seq == 4 + total
    seqs = await sync_to_async(lambda: list(BoardEvent.objects.filter(board__slug="board-1").values_list("seq", flat=True)))()
    assert seqs == list(range(1, 5 + total))
    assert await sync_to_async(Task.objects.filter(title__startswith="load-").count)() == total


async def test_concurrent_column_and_task_changes_on_both_processes_keep_one_gap_free_seq(cluster):
    """Columns made, renamed and moved on A while tasks are made on B: one seq,
    no gaps, every event seen by a watcher on each process (SPEC §12)."""
    (a, b), _, _ = cluster
    column_writer, task_writer = await Client.open(a, "alice"), await Client.open(b, "bob")
    watchers = [await Client.open(server) for server in (a, b)]
    for client in (column_writer, task_writer, *watchers):
        await client.join()
    for client in (column_writer, task_writer, *watchers):
        while True:
            try:
                await client.recv(timeout=0.5)
            except asyncio.TimeoutError:
                break
    rounds = 20

    async def columns():
        seqs = []
        for i in range(rounds):
            made = await column_writer.request(type="create_list", boardId="board-1", name=f"col-{i}")
            assert made["type"] == "ack", made
            moved = await column_writer.request(type="move_list", listId=made["list"]["id"], position=0)
            renamed = await column_writer.request(type="update_list", listId=made["list"]["id"], name=f"c{i}")
            seqs += [made["seq"], moved["seq"], renamed["seq"]]
        return seqs

    async def tasks():
        seqs = []
        for i in range(rounds * 3):
            ack = await task_writer.request(type="create_task", boardId="board-1", listId="list-todo", title=f"t{i}")
            assert ack["type"] == "ack", ack
            seqs.append(ack["seq"])
        return seqs

    acked = sorted(sum(await asyncio.gather(columns(), tasks()), []))
    total = rounds * 6
    assert acked == list(range(5, 5 + total))
    for watcher in watchers:
        seen = []
        while len(seen) < total:
            frame = await watcher.recv(timeout=10)
            if frame["type"].startswith(("list_", "task_")):
                seen.append(frame["seq"])
        assert sorted(seen) == acked
    positions = await sync_to_async(
        lambda: sorted(List.objects.filter(board__slug="board-1").values_list("position", flat=True))
    )()
    assert positions == list(range(3 + rounds))  # columns still 0..n-1


async def test_mass_disconnect_leaves_no_ghosts(cluster):
    (a, b), prefix, _ = cluster
    per_server = 500
    clients = []
    for server in (a, b):
        for _ in range(per_server // 50):  # in waves, to stay under daphne's handshake timeout
            opened = await asyncio.gather(*(Client.open(server) for _ in range(50)))
            await asyncio.gather(*(c.join() for c in opened))
            clients += opened
    conns_key = f"{prefix}:presence:board-1:conns"
    store = redis.Redis.from_url(a.env["REDIS_URL"])
    assert store.hlen(conns_key) == 2 * per_server

    # Everyone drops at once, without a closing handshake.
    for client in clients:
        client.ws.transport.abort()

    deadline = asyncio.get_running_loop().time() + 30
    while store.hlen(conns_key) and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.2)
    assert store.hlen(conns_key) == 0
    assert not store.hgetall(f"{prefix}:presence:board-1:ucount")
    probe_a, probe_b = await Client.open(a), await Client.open(b)
    assert (await probe_a.join())["viewers"] == 1
    assert (await probe_b.join())["viewers"] == 2
    # The group still works on both processes after the storm.
    key = await token(a, "alice")
    await asyncio.to_thread(http, b, "POST", "/api/tasks/", {"title": "after", "listId": "list-todo"}, key)
    for probe in (probe_a, probe_b):
        frames = await probe.frames_until(lambda f: f["type"] == "task_created")
        assert frames[-1]["task"]["title"] == "after"
