"""A burst of joins shares one database read per board (boards/realtime/catchup.py):
each joiner still gets exactly its own missed events, its own permission
answer and its own resync, and nothing committed meanwhile is lost."""

import asyncio
import time

import pytest
from asgiref.sync import sync_to_async

from boards.models import Task
from boards.realtime import catchup
from tests.support.wsclient import send

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def slow_reads(monkeypatch):
    """Each read waits 0.3 s on the database thread before it starts, as it
    would behind a queue of changes: the joins arriving meanwhile ride on it."""
    real = catchup._Flight.read

    def read(self, slug):
        time.sleep(0.3)
        return real(self, slug)

    monkeypatch.setattr(catchup._Flight, "read", read)


def add_tasks(n):
    for i in range(n):
        Task.objects.create(list_id="list-todo", title=f"t{i}")


async def test_a_burst_of_joins_with_since_shares_one_read_and_each_gets_its_own_replay(connect, slow_reads):
    await sync_to_async(add_tasks)(6)  # board-1 now at seq 10
    comms = [await connect(None) for _ in range(30)]
    sinces = [i % 11 for i in range(30)]  # 0..10: from "everything" to "nothing missed"
    before = catchup.reads
    for comm, since in zip(comms, sinces):
        await comm.send_json_to({"type": "join", "boardId": "board-1", "since": since})
    for comm, since in zip(comms, sinces):
        joined = await comm.receive_json_from(timeout=5)
        assert joined["type"] == "joined" and joined["seq"] == 10
        replay = [(await comm.receive_json_from(timeout=3))["seq"] for _ in range(10 - since)]
        assert replay == list(range(since + 1, 11))
    assert catchup.reads - before <= 2  # not 30


async def test_members_and_strangers_in_one_burst_get_their_own_answers(connect, slow_reads, users):
    carol, bob, anon = await connect("carol"), await connect("bob"), await connect(None)
    for comm in (carol, bob, anon):
        await comm.send_json_to({"type": "join", "boardId": "board-2", "since": 0})
    joined = await carol.receive_json_from(timeout=5)
    assert joined["type"] == "joined"
    assert (await carol.receive_json_from(timeout=3))["seq"] == 1
    for comm in (bob, anon):
        reply = await comm.receive_json_from(timeout=5)
        assert (reply["type"], reply["code"]) == ("error", "forbidden")
        assert await comm.receive_nothing(0.2)


async def test_one_joiners_resync_does_not_touch_the_others(connect, slow_reads):
    ahead, behind = await connect(None), await connect(None)
    await ahead.send_json_to({"type": "join", "boardId": "board-1", "since": 99})
    await behind.send_json_to({"type": "join", "boardId": "board-1", "since": 3})
    assert (await ahead.receive_json_from(timeout=5))["type"] == "joined"
    assert (await ahead.receive_json_from(timeout=3))["type"] == "resync_required"
    assert (await behind.receive_json_from(timeout=5))["type"] == "joined"
    assert (await behind.receive_json_from(timeout=3))["seq"] == 4


async def test_a_change_committed_during_a_shared_read_arrives_live_or_replayed_once(connect, slow_reads, users):
    comms = [await connect(None) for _ in range(10)]
    writer = await connect("bob")

    async def joins():
        for comm in comms:
            await comm.send_json_to({"type": "join", "boardId": "board-1", "since": 4})

    await asyncio.gather(joins(), send(writer, type="create_task", boardId="board-1", listId="list-todo", title="during"))
    for comm in comms:
        frames = []
        while not await comm.receive_nothing(timeout=1):
            frames.append(await comm.receive_json_from(timeout=1))
        seqs = [f["seq"] for f in frames if f["type"] == "task_created"]
        assert seqs == [5], frames  # once, live or from the replay


async def test_a_bogus_board_id_is_not_found_without_touching_a_group(connect):
    comm = await connect(None)
    reply = await send(comm, type="join", boardId="no such board!")
    assert (reply["type"], reply["code"]) == ("error", "not_found")
