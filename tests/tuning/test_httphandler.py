"""boards.tuning.httphandler: Django's views behind the ASGI application, one thread hop each."""

import json

import pytest
from asgiref.sync import SyncToAsync, sync_to_async
from rest_framework.authtoken.models import Token

from boards.models import Task
from tests.conftest import session_cookie
from tests.support.httpclient import AsgiHttp

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def hops(monkeypatch):
    """The names of the functions each sync_to_async call ran, in order."""
    seen = []
    call = SyncToAsync.__call__

    async def counting(self, *args, **kwargs):
        seen.append(getattr(self.func, "__qualname__", repr(self.func)))
        return await call(self, *args, **kwargs)

    monkeypatch.setattr(SyncToAsync, "__call__", counting)
    return seen


async def test_a_rest_change_runs_its_middleware_and_view_in_one_hop(users, hops):
    token = await sync_to_async(lambda: Token.objects.get_or_create(user=users["bob"])[0].key)()
    task = await sync_to_async(lambda: Task.objects.filter(list_id="list-todo").first())()
    request = AsgiHttp(
        f"/api/tasks/{task.pk}/", method="PATCH", body=json.dumps({"title": "one hop", "position": 1}).encode(),
        headers=[(b"authorization", f"Token {token}".encode()), (b"content-type", b"application/json")],
    )
    hops.clear()
    await request.start()
    status, body = await request.response()
    await request.comm.wait(3)
    assert status == 200 and body["title"] == "one hop"
    # request_started, the middleware chain with the view, the response's close().
    # Django's own ASGIHandler made one hop per middleware method: 16 here.
    assert hops == ["Signal.asend.<locals>.sync_send", "BaseHandler.get_response", "HttpResponseBase.close"], hops


async def test_the_middleware_still_applies_behind_the_asgi_application(users):
    cookie = await sync_to_async(session_cookie)(users["bob"])
    # CSRF: a session-authenticated write without the token is refused, and changes nothing.
    request = AsgiHttp(
        "/api/tasks/", method="POST", body=json.dumps({"title": "no csrf", "listId": "list-todo"}).encode(),
        headers=[(b"cookie", cookie), (b"content-type", b"application/json")],
    )
    await request.start()
    status, _ = await request.response()
    await request.comm.wait(3)  # the app closes the response (and its database connection)
    assert status == 403
    assert not await sync_to_async(Task.objects.filter(title="no csrf").exists)()
    # Security headers, sessions and auth on a page.
    page = await AsgiHttp("/boards/board-1/", headers=[(b"cookie", cookie)]).start()
    while not page.complete:
        await page._next(3)
    await page.comm.wait(3)
    assert page.status == 200
    assert page.headers["x-frame-options"] == "DENY"
    assert b"bob" in page.buffer
