"""
GET /api/boards/<id>/events through the real ASGI application: pagination,
long polling (`wait`) on the event loop, auth and permissions — and the same
answers from the Django/DRF view of that URL.
"""

import asyncio
import time

import pytest
from asgiref.sync import sync_to_async
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from boards.models import Task
from tests.conftest import session_cookie
from tests.support.httpclient import AsgiHttp, group_members

pytestmark = pytest.mark.django_db(transaction=True)

EVENTS = "/api/boards/board-1/events"


async def poll(query="", path=EVENTS, headers=(), timeout=3):
    req = await AsgiHttp(path, query, headers).start()
    status, body = await req.response(timeout)
    await req.close()
    return status, body


def drf_get(path, query):
    resp = APIClient().get(f"{path}?{query}")
    return resp.status_code, resp.json()


async def test_pages_with_limit_and_says_when_more_remain(demo):
    status, body = await poll("since=0&limit=3")
    assert status == 200
    assert [e["seq"] for e in body["events"]] == [1, 2, 3]
    assert body["seq"] == 4 and body["more"] is True and body["last"] == 3
    status, body = await poll(f"since={body['last']}&limit=3")
    assert body == {"events": [body["events"][0]], "seq": 4}  # the last page has no "more"
    assert body["events"][0]["seq"] == 4


@pytest.mark.parametrize(
    "query",
    ["since=0", "since=1&limit=2", "since=4", "since=9", "since=0&limit=100000", "since=x", "limit=0", "limit=-3",
     "since=2&limit=abc", "wait=-1", "wait=nan", "wait=abc"],
)
async def test_asgi_door_and_drf_view_answer_alike(demo, query):
    """Two doors, one answer (wait aside): the DRF view serves the test client / plain Django."""
    asgi = await poll(query)
    drf = await sync_to_async(drf_get)(EVENTS, query)
    assert asgi == drf


async def test_limit_is_bounded_by_the_setting(demo, settings):
    settings.LIVEBOARD_EVENTS_PAGE_MAX = 2
    status, body = await poll("since=0&limit=50")
    assert [e["seq"] for e in body["events"]] == [1, 2] and body["more"] is True
    status, body = await poll("since=0")  # default page is the maximum
    assert [e["seq"] for e in body["events"]] == [1, 2]


async def test_long_poll_returns_as_soon_as_an_event_arrives(demo):
    req = await AsgiHttp(EVENTS, "since=4&wait=10").start()
    await asyncio.sleep(0.2)
    assert not await req.has_output(), "answered before anything happened"
    started = time.monotonic()
    await sync_to_async(Task.objects.create)(list_id="list-todo", title="wake up")
    status, body = await req.response(timeout=3)
    assert time.monotonic() - started < 2
    assert status == 200
    assert [(e["seq"], e["task"]["title"]) for e in body["events"]] == [(5, "wake up")]
    assert body["seq"] == 5
    await req.close()
    assert not await group_members("board.board-1")


async def test_long_poll_times_out_cleanly_with_an_empty_list(demo):
    started = time.monotonic()
    req = await AsgiHttp(EVENTS, "since=4&wait=0.5").start()
    status, body = await req.response(timeout=3)
    assert 0.45 < time.monotonic() - started < 2.5
    assert (status, body) == (200, {"events": [], "seq": 4})
    await req.close()
    assert not await group_members("board.board-1")


async def test_long_poll_wait_is_capped_by_the_setting(demo, settings):
    settings.LIVEBOARD_LONGPOLL_MAX_WAIT = 0.3
    started = time.monotonic()
    status, body = await poll("since=4&wait=60")
    assert time.monotonic() - started < 2
    assert body == {"events": [], "seq": 4}


async def test_long_poll_answers_at_once_when_events_are_there_or_gone(demo):
    started = time.monotonic()
    assert (await poll("since=2&wait=10"))[1]["events"][0]["seq"] == 3
    status, body = await poll("since=99&wait=10")
    assert status == 409 and body["type"] == "resync_required" and body["seq"] == 4
    assert time.monotonic() - started < 2


async def test_long_poll_ignores_other_boards_and_old_seqs(demo):
    req = await AsgiHttp(EVENTS, "since=4&wait=1").start()
    await sync_to_async(Task.objects.create)(list_id="b2-todo", title="other board")
    await asyncio.sleep(0.3)
    assert not await req.has_output()
    status, body = await req.response(timeout=3)
    assert body == {"events": [], "seq": 4}
    await req.close()


async def test_client_that_goes_away_leaves_the_group(demo):
    req = await AsgiHttp(EVENTS, "since=4&wait=10").start()
    await asyncio.sleep(0.2)
    assert len(await group_members("board.board-1")) == 1
    await req.close()  # http.disconnect while waiting
    assert not await group_members("board.board-1")


async def test_permissions_and_auth(users):
    assert (await poll(path="/api/boards/nope/events"))[0] == 404
    assert (await poll(path="/api/boards/board-2/events", query="wait=5"))[0] == 403  # anonymous, private
    bob = [(b"cookie", await sync_to_async(session_cookie)(users["bob"]))]
    assert (await poll(path="/api/boards/board-2/events", headers=bob))[0] == 403  # not a member
    carol = [(b"cookie", await sync_to_async(session_cookie)(users["carol"]))]
    status, body = await poll(path="/api/boards/board-2/events", headers=carol)
    assert status == 200 and [e["seq"] for e in body["events"]] == [1]

    token = await sync_to_async(lambda: Token.objects.get_or_create(user=users["carol"])[0].key)()
    status, body = await poll(path="/api/boards/board-2/events", headers=[(b"authorization", f"Token {token}".encode())])
    assert status == 200 and [e["seq"] for e in body["events"]] == [1]

    req = await AsgiHttp("/api/boards/board-2/events", headers=[(b"authorization", b"Token wrong")]).start()
    status, body = await req.response()
    assert status == 401 and req.headers["www-authenticate"] == "Token"
    await req.close()

    req = await AsgiHttp(EVENTS, method="POST").start()
    assert (await req.response())[0] == 405
    await req.close()


async def test_long_poll_of_a_member_who_loses_access_is_refused(users):
    carol = [(b"cookie", await sync_to_async(session_cookie)(users["carol"]))]
    req = await AsgiHttp("/api/boards/board-2/events", "since=1&wait=10", carol).start()
    await asyncio.sleep(0.2)
    await sync_to_async(lambda: users["carol"].memberships.all().delete())()
    status, body = await req.response(timeout=3)
    assert status == 403
    await req.close()


async def test_page_board_still_goes_to_django(demo):
    req = await AsgiHttp("/boards/board-1/").start()
    while not req.complete:
        await req._next(5)
    assert req.status == 200 and req.headers["content-type"].startswith("text/html")
    await req.close()
