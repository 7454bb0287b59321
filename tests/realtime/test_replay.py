"""
Nothing lost, nothing doubled (SPEC §5): the join hand-over under races, a
consumer that overflows the channel layer, and the retention that bounds
the log (`prune_events`). Basic `join` + `since` edges are in test_broadcast.
"""

import asyncio
import threading
from datetime import timedelta
from io import StringIO

import pytest
from asgiref.sync import sync_to_async
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from boards.models import Board, BoardEvent, Task
from tests.support.httpclient import isolated_layer
from tests.support.threads import closing_connections, commit_and_hold_broadcast, in_thread
from tests.support.wsclient import join, send

pytestmark = pytest.mark.django_db(transaction=True)

TASK_EVENTS = {"task_created", "task_moved", "task_updated", "task_deleted"}


def drain(comm):
    """Every frame the server has sent so far, without waiting."""
    frames = []
    while not comm.output_queue.empty():
        message = comm.output_queue.get_nowait()
        if message["type"] == "websocket.send":
            import json

            frames.append(json.loads(message["text"]))
    return frames


def task_seqs(frames):
    return [f["seq"] for f in frames if f["type"] in TASK_EVENTS]


def _create(title, list_id="list-todo"):
    return Task.objects.create(list_id=list_id, title=title)


# --- the hand-over between replay and live stream ------------------------------------


async def test_event_committed_during_a_join_with_since_is_delivered_once(connect):
    watcher = await connect(None)
    await join(watcher)  # already in the room
    committed, release = threading.Event(), threading.Event()
    holder = asyncio.ensure_future(in_thread(commit_and_hold_broadcast, committed, release, "racing"))
    assert await asyncio.to_thread(committed.wait, 5)

    # Seq 5 is committed but not yet broadcast: the joiner finds it in the log...
    late = await connect(None)
    joined = await join(late, since=4)
    assert joined["seq"] == 5
    assert (await late.receive_json_from(timeout=2))["seq"] == 5
    # ...and its live frame, arriving after group_add, is dropped.
    release.set()
    await holder
    await sync_to_async(_create)("after")
    await asyncio.sleep(0.2)
    assert task_seqs(drain(late)) == [6]
    assert task_seqs(drain(watcher)) == [5, 6]  # the live viewer got it once, live


async def test_joins_racing_a_stream_of_commits_see_every_event_exactly_once(connect):
    """Joiners with `since` arrive while another thread commits 40 events."""
    done = threading.Event()

    def produce():
        for i in range(40):
            _create(f"burst {i}")
        done.set()

    producer = asyncio.ensure_future(in_thread(produce))
    joiners = []
    while not done.is_set() and len(joiners) < 12:
        comm = await connect(None)
        reply = await join(comm, since=4)
        joiners.append((comm, reply["seq"]))
        await asyncio.sleep(0.005)
    await producer
    await asyncio.sleep(0.3)
    final = await sync_to_async(lambda: Board.objects.get(slug="board-1").last_seq)()
    assert final == 44
    for comm, _ in joiners:
        got = task_seqs(drain(comm))
        assert got == list(range(5, final + 1)), got  # replay + live, no gap, no double


async def test_overflowing_consumer_recovers_every_event_by_rejoining(connect, settings):
    """The layer drops frames for a consumer that is busy; `since` brings them back."""
    isolated_layer(settings, capacity=3)
    viewer = await connect(None)
    await join(viewer)

    # Keep the viewer's consumer busy: its ping needs the database thread, which we hold.
    gate = threading.Event()
    blocker = asyncio.ensure_future(sync_to_async(gate.wait)(10))
    await viewer.send_json_to({"type": "ping", "ref": "p"})
    await asyncio.sleep(0.1)

    def produce():
        for i in range(12):
            _create(f"flood {i}")

    await in_thread(produce)
    gate.set()
    await blocker
    await asyncio.sleep(0.3)
    frames = drain(viewer)
    pong = next(f for f in frames if f["type"] == "pong")
    live = task_seqs(frames)
    assert len(live) < 12, "nothing overflowed: the test did not test anything"
    assert live == sorted(live) and len(set(live)) == len(live)

    # The client: the last seq it holds without a gap, and the board's seq from pong/joined.
    have = 4
    while have + 1 in live:
        have += 1
    known = max(pong["seqs"].get("board-1", 0), max(live, default=0))
    assert known == 16 and have < known
    rejoined = await join(viewer, since=have)
    assert rejoined["seq"] == 16
    await asyncio.sleep(0.2)
    replayed = task_seqs(drain(viewer))
    assert replayed == list(range(have + 1, 17))
    applied = sorted(set(live) | set(replayed))
    assert applied == list(range(5, 17))  # every event, and applying by seq makes it exactly once


# --- the log itself ------------------------------------------------------------------


def test_a_hole_in_the_log_is_never_replayed_as_if_complete(demo):
    for i in range(3):
        _create(f"t{i}")  # seqs 5, 6, 7
    BoardEvent.objects.filter(board__slug="board-1", seq=5).delete()  # lost in the middle
    api = APIClient()
    assert api.get("/api/boards/board-1/events?since=4").status_code == 409
    assert api.get("/api/boards/board-1/events?since=3&limit=2").status_code == 409  # [4, 6] is not a page
    page = api.get("/api/boards/board-1/events?since=3&limit=1").json()  # [4] is; the next one is not
    assert [e["seq"] for e in page["events"]] == [4] and page["more"] is True
    resp = api.get("/api/boards/board-1/events?since=5")
    assert [e["seq"] for e in resp.json()["events"]] == [6, 7]


async def test_join_past_a_hole_asks_for_resync(connect):
    for i in range(3):
        await sync_to_async(_create)(f"t{i}")
    await sync_to_async(lambda: BoardEvent.objects.filter(board__slug="board-1", seq=6).delete())()
    viewer = await connect(None)
    await join(viewer, since=4)
    assert (await viewer.receive_json_from(timeout=2))["type"] == "resync_required"
    other = await connect(None)
    await join(other, since=6)
    assert (await other.receive_json_from(timeout=2))["seq"] == 7


def _age(board_slug, upto_seq, days):
    BoardEvent.objects.filter(board__slug=board_slug, seq__lte=upto_seq).update(
        created=timezone.now() - timedelta(days=days)
    )


def test_prune_by_age_keeps_each_boards_newest_event(demo, settings):
    for i in range(4):
        _create(f"t{i}")  # board-1: seqs 1..8; board-2: seq 1
    _age("board-1", 6, days=10)
    _age("board-2", 1, days=10)  # board-2's only event is old: it stays, being the newest
    out = StringIO()
    call_command("prune_events", "--max-age", str(7 * 24 * 3600), stdout=out)
    assert "Pruned 6 events" in out.getvalue()
    assert list(BoardEvent.objects.filter(board__slug="board-1").values_list("seq", flat=True)) == [7, 8]
    assert list(BoardEvent.objects.filter(board__slug="board-2").values_list("seq", flat=True)) == [1]

    _age("board-1", 8, days=10)  # everything old now: the newest still stays
    settings.LIVEBOARD_EVENT_MAX_AGE = 24 * 3600  # the setting is the default
    call_command("prune_events", stdout=StringIO())
    assert list(BoardEvent.objects.filter(board__slug="board-1").values_list("seq", flat=True)) == [8]
    assert Board.objects.get(slug="board-1").last_seq == 8

    api = APIClient()
    resp = api.get("/api/boards/board-1/events?since=6")
    assert resp.status_code == 409 and resp.json()["type"] == "resync_required" and resp.json()["seq"] == 8
    assert [e["seq"] for e in api.get("/api/boards/board-1/events?since=7").json()["events"]] == [8]
    _create("after prune")
    assert [e["seq"] for e in api.get("/api/boards/board-1/events?since=7").json()["events"]] == [8, 9]


def test_prune_by_count_and_age_together_in_batches(demo, settings):
    settings.LIVEBOARD_EVENT_MAX_AGE = 0  # no age limit
    for i in range(10):
        _create(f"t{i}")  # board-1: 1..14
    _age("board-1", 3, days=30)
    call_command("prune_events", stdout=StringIO())
    assert BoardEvent.objects.filter(board__slug="board-1").count() == 14  # age rule off, count large

    call_command("prune_events", "--keep", "8", "--batch-size", "2", stdout=StringIO())  # count wins
    assert list(BoardEvent.objects.filter(board__slug="board-1").values_list("seq", flat=True)) == list(range(7, 15))
    _age("board-1", 10, days=30)
    call_command("prune_events", "--keep", "8", "--max-age", "3600", "--batch-size", "3", stdout=StringIO())
    assert list(BoardEvent.objects.filter(board__slug="board-1").values_list("seq", flat=True)) == [11, 12, 13, 14]


def test_prune_is_safe_while_events_are_written(demo):
    """Writers and a pruner at once: no errors, and the log stays a gap-free suffix."""
    errors = []
    stop = threading.Event()

    def write():
        try:
            for i in range(60):
                _create(f"w{i}")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            stop.set()

    def prune():
        try:
            while not stop.is_set():
                call_command("prune_events", "--keep", "5", "--batch-size", "2", stdout=StringIO())
        except Exception as exc:  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=closing_connections(f)) for f in (write, prune)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    call_command("prune_events", "--keep", "5", stdout=StringIO())
    board = Board.objects.get(slug="board-1")
    assert board.last_seq == 64
    kept = list(BoardEvent.objects.filter(board=board).values_list("seq", flat=True))
    assert kept == list(range(60, 65))
    assert len(APIClient().get("/api/boards/board-1/events?since=59").json()["events"]) == 5


async def test_ping_reveals_the_missed_last_event_of_a_quiet_board(connect):
    viewer = await connect(None)
    await join(viewer)
    await sync_to_async(_create)("seen")
    await viewer.receive_json_from(timeout=2)
    pong = await send(viewer, type="ping")
    assert pong == {"type": "pong", "seqs": {"board-1": 5}}
