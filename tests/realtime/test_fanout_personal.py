"""
What one status change and one editing mark cost on a busy board (SPEC §11,
issue 15's measurement): frames delivered to N viewers through the real
consumer and the in-process layer. N is 120 here (over the coalescing
threshold of 50); `LIVEBOARD_FANOUT_VIEWERS=1000` runs the 1,000-viewer
measurement reported in the README.

Expected, and asserted: a status change reaches each other viewer at most
once per presence interval, however often it flips (the coalesced
`presence` frame's `changed`) — N-1 frames, not N² when many change at
once; an editing mark is N-1 frames when it appears and when it goes, and
0 when it is refreshed.
"""

import asyncio
import os
import time

import pytest
from asgiref.sync import sync_to_async

from boards.models import Task
from tests.support.wsclient import join, send

pytestmark = pytest.mark.django_db(transaction=True)

VIEWERS = int(os.environ.get("LIVEBOARD_FANOUT_VIEWERS", "120"))


async def count_frames(comms, settle=0.6):
    """Frames each socket received until the room is quiet for `settle` s: {type: total}."""
    totals = {}

    async def drain(comm):
        while not await comm.receive_nothing(timeout=settle):
            frame = await comm.receive_json_from()
            totals[frame["type"]] = totals.get(frame["type"], 0) + 1

    await asyncio.gather(*(drain(c) for c in comms))
    return totals


async def test_status_and_editing_on_a_busy_board_cost_one_frame_per_viewer(connect, users, settings):
    settings.LIVEBOARD_PRESENCE_INTERVAL = 0.3
    settings.LIVEBOARD_RATE_LIMIT, settings.LIVEBOARD_RATE_BURST = 1000, 1000
    bob = await connect("bob")
    await join(bob)
    viewers = [await connect() for _ in range(VIEWERS - 1)]
    for chunk in range(0, len(viewers), 50):
        await asyncio.gather(*(join(v) for v in viewers[chunk:chunk + 50]))
    await asyncio.sleep(0.5)
    await count_frames(viewers + [bob])  # the joins' coalesced presence frames

    started = time.perf_counter()
    await send(bob, type="status", status="away")
    status_one = await count_frames(viewers)
    for status in ("active", "away", "active", "away"):  # flapping inside one interval
        await send(bob, type="status", status=status)
    status_flaps = await count_frames(viewers)

    task = await sync_to_async(lambda: Task.objects.filter(list_id="list-todo").first().pk)()
    await send(bob, type="editing", taskId=task, editing=True)
    mark = await count_frames(viewers)
    await send(bob, type="editing", taskId=task, editing=True)
    refresh = await count_frames(viewers)
    await send(bob, type="editing", taskId=task, editing=False)
    unmark = await count_frames(viewers)
    elapsed = time.perf_counter() - started

    others = VIEWERS - 1
    print(f"\n{VIEWERS} viewers: status change {status_one}, 4 flips {status_flaps}, "
          f"mark {mark}, refresh {refresh}, unmark {unmark} ({elapsed:.1f}s with settling)")
    assert status_one == {"presence": others}  # busy board: coalesced, one frame each
    assert sum(status_flaps.values()) <= 2 * others  # at most one per interval, however many flips
    assert mark == {"editing": others} and refresh == {} and unmark == {"editing": others}
