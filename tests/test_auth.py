"""Who a socket is (SPEC §7): origin check, session cookies, WebSocket tickets."""

from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from boards.models import WsTicket
from tests.conftest import ORIGIN, session_cookie
from tests.support.wsclient import join, send

pytestmark = pytest.mark.django_db(transaction=True)


def application():
    from boardsite.asgi import application

    return application


async def open_socket(path="/ws/", headers=()):
    comm = WebsocketCommunicator(application(), path, headers=list(headers))
    connected, _ = await comm.connect(timeout=3)
    return comm, connected


async def assert_refused(path, headers, code):
    """The middleware completes the handshake, then closes with `code`."""
    comm, connected = await open_socket(path, headers)
    assert connected is True
    assert await comm.receive_output(timeout=3) == {"type": "websocket.close", "code": code}
    await comm.wait(timeout=3)


@sync_to_async
def cookie_for(user):
    return session_cookie(user)


@sync_to_async
def issue_ticket(user):
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    resp = client.post("/api/ws-ticket/")
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert set(body) == {"ticket"}
    return body["ticket"]


# --- origin check ---------------------------------------------------------------


@pytest.mark.parametrize(
    "origin",
    [b"http://evil.example", b"https://localhost.evil.example", b"null", b"", b"http://localhost.:8000.evil"],
)
async def test_foreign_origin_is_refused_with_4403(users, origin):
    cookie = await cookie_for(users["alice"])
    await assert_refused("/ws/", [(b"origin", origin), (b"cookie", cookie)], 4403)


async def test_foreign_origin_with_a_valid_ticket_is_still_refused(users):
    ticket = await issue_ticket(users["carol"])
    await assert_refused(f"/ws/?ticket={ticket}", [(b"origin", b"http://evil.example")], 4403)


@pytest.mark.parametrize("origin", [b"http://localhost:8000", b"http://127.0.0.1:8000", b"https://localhost"])
async def test_own_origin_with_session_cookie_is_that_user(users, origin):
    cookie = await cookie_for(users["alice"])
    comm, connected = await open_socket(headers=[(b"origin", origin), (b"cookie", cookie)])
    assert connected
    joined = await join(comm)
    assert [(u["id"], u["name"]) for u in joined["users"]] == [(users["alice"].pk, "alice")]
    assert joined["viewers"] == 1
    await comm.disconnect()


async def test_own_origin_without_cookie_is_anonymous(demo):
    comm, connected = await open_socket(headers=[ORIGIN])
    assert connected
    joined = await join(comm)
    assert (joined["users"], joined["viewers"]) == ([], 1)
    reply = await send(comm, type="join", boardId="board-2")
    assert reply == {"type": "error", "code": "forbidden", "error": "You may not view board board-2"}
    await comm.disconnect()


async def test_no_origin_ignores_the_session_cookie(users):
    cookie = await cookie_for(users["carol"])
    comm, connected = await open_socket(headers=[(b"cookie", cookie)])
    assert connected
    joined = await join(comm)
    assert joined["users"] == []
    assert joined["viewers"] == 1
    # Carol's cookie would open her private board; without an Origin it is ignored.
    reply = await send(comm, type="join", boardId="board-2")
    assert reply == {"type": "error", "code": "forbidden", "error": "You may not view board board-2"}
    reply = await send(comm, type="create_task", boardId="board-1", listId="list-todo", title="anon", ref="c")
    assert reply["type"] == "error"
    assert reply["code"] == "forbidden"
    assert reply["ref"] == "c"
    await comm.disconnect()


# --- tickets -----------------------------------------------------------------------


def test_ticket_endpoint_needs_login(users):
    resp = APIClient().post("/api/ws-ticket/")
    assert resp.status_code == 401
    assert resp.json() == {"detail": "Authentication credentials were not provided."}
    assert WsTicket.objects.count() == 0

    client = APIClient()
    assert client.login(username="carol", password="liveboard-demo")
    resp = client.post("/api/ws-ticket/")
    assert resp.status_code == 201
    ticket = resp.json()["ticket"]
    assert isinstance(ticket, str) and len(ticket) >= 32
    row = WsTicket.objects.get()
    assert row.user == users["carol"]
    assert ticket not in row.key_hash  # stored hashed, never in clear
    assert timezone.now() < row.expires <= timezone.now() + timedelta(seconds=61)

    assert APIClient().get("/api/ws-ticket/").status_code == 401
    assert client.get("/api/ws-ticket/").status_code == 405


async def test_ticket_identifies_a_non_browser_socket(users):
    ticket = await issue_ticket(users["carol"])
    comm, connected = await open_socket(f"/ws/?ticket={ticket}")
    assert connected
    joined = await join(comm, board="board-2")
    assert [(u["id"], u["name"]) for u in joined["users"]] == [(users["carol"].pk, "carol")]
    assert joined["seq"] == 1
    ack = await send(comm, type="create_task", boardId="board-2", listId="b2-done", title="by ticket", ref="t")
    assert ack["type"] == "ack"
    assert ack["seq"] == 2
    assert ack["task"]["title"] == "by ticket"
    await comm.disconnect()
    assert await sync_to_async(WsTicket.objects.count)() == 0  # redeemed = deleted


async def test_ticket_wins_over_a_cookie(users):
    ticket = await issue_ticket(users["carol"])
    cookie = await cookie_for(users["bob"])
    comm, connected = await open_socket(f"/ws/?ticket={ticket}", headers=[ORIGIN, (b"cookie", cookie)])
    assert connected
    joined = await join(comm, board="board-2")
    assert [u["name"] for u in joined["users"]] == ["carol"]
    await comm.disconnect()


async def test_ticket_is_single_use(users):
    ticket = await issue_ticket(users["carol"])
    comm, connected = await open_socket(f"/ws/?ticket={ticket}")
    assert connected
    assert (await join(comm, board="board-2"))["users"][0]["name"] == "carol"
    await assert_refused(f"/ws/?ticket={ticket}", [], 4401)
    await comm.disconnect()
    await assert_refused(f"/ws/?ticket={ticket}", [], 4401)


async def test_expired_ticket_is_refused(users):
    ticket = await issue_ticket(users["carol"])
    updated = await sync_to_async(WsTicket.objects.update)(expires=timezone.now() - timedelta(seconds=1))
    assert updated == 1
    await assert_refused(f"/ws/?ticket={ticket}", [], 4401)
    assert await sync_to_async(WsTicket.objects.count)() == 0


async def test_zero_ttl_ticket_is_refused(users, settings):
    settings.LIVEBOARD_TICKET_TTL = 0
    ticket = await issue_ticket(users["carol"])
    await assert_refused(f"/ws/?ticket={ticket}", [], 4401)


async def test_ticket_of_inactive_user_is_refused(users):
    ticket = await issue_ticket(users["carol"])
    carol = users["carol"]
    carol.is_active = False
    await sync_to_async(carol.save)()
    await assert_refused(f"/ws/?ticket={ticket}", [], 4401)


@pytest.mark.parametrize("query", ["ticket=garbage", "ticket=", "ticket=" + "x" * 500, "ticket=%ff%fe"])
async def test_bad_ticket_is_refused(demo, query):
    await assert_refused(f"/ws/?{query}", [], 4401)


async def test_ticket_is_not_usable_as_rest_credentials(users):
    ticket = await issue_ticket(users["carol"])

    def get():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {ticket}")
        return client.get("/api/boards/board-2/")

    assert (await sync_to_async(get)()).status_code == 401
