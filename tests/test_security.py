"""
Access that changes while a socket is open, tickets across processes,
per-user connection limits, CSRF, logs without secrets and the production
settings (SPEC §7, §10; README "Security model").
"""

import io
import json
import logging
import os
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from boards import tickets
from boards.logfilters import RedactSecrets, redact
from boards.models import Board, Membership, Task, WsTicket
from tests.support.servers import BASE_DIR, manage, subprocess_env
from tests.test_auth import assert_refused, open_socket
from tests.support.wsclient import join, nothing, send

pytestmark = pytest.mark.django_db(transaction=True)

FORBIDDEN_B2 = {"type": "error", "code": "forbidden", "boardId": "board-2", "error": "You may no longer view board board-2"}


@pytest.fixture
def ed(users):
    """ed: an editor of the private board-2."""
    user = get_user_model().objects.create_user("ed", password="liveboard-demo")
    Membership.objects.create(user=user, board=Board.objects.get(slug="board-2"), role=Membership.EDITOR)
    return user


async def next_frame(comm, timeout=3):
    return await comm.receive_json_from(timeout=timeout)


async def member_removed(comm, name="ed", board="board-2", timeout=3):
    """The room hears a member go (SPEC §12) before their sockets are evicted."""
    frame = await next_frame(comm, timeout)
    assert (frame["type"], frame["boardId"], frame["user"]["name"]) == ("member_removed", board, name), frame


def rest_create(username, title, list_id="b2-todo"):
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    resp = client.post("/api/tasks/", {"title": title, "listId": list_id}, content_type="application/json")
    assert resp.status_code == 201, resp.content
    return resp.json()


# --- membership revoked while connected ---------------------------------------------


async def test_revoked_member_is_removed_from_the_room_and_told(connect, users, ed):
    carol = await connect("carol")
    edc = await connect("ed")
    await join(carol, "board-2")
    await join(edc, "board-2")
    await join(edc, "board-1")  # another board, unaffected
    assert (await next_frame(carol))["type"] == "user_joined"

    await sync_to_async(lambda: Membership.objects.get(user=ed, board__slug="board-2").delete())()

    await member_removed(edc)
    assert await next_frame(edc) == FORBIDDEN_B2
    assert (await next_frame(edc))["notification"]["kind"] == "removed_from_board"  # SPEC §11
    await member_removed(carol)
    left = await next_frame(carol)
    assert left == {"type": "user_left", "boardId": "board-2", "viewers": 1, "user": {"id": ed.pk, "name": "ed"}}

    # Out of the group: carol's next change reaches carol's room, not ed.
    await sync_to_async(rest_create)("carol", "after ed left")
    assert (await next_frame(carol))["task"]["title"] == "after ed left"
    await nothing(edc)
    # Still connected and still on board-1; board-2 is gone from its pings and refused again.
    pong = await send(edc, type="ping")
    assert set(pong["seqs"]) == {"board-1"}
    assert (await send(edc, type="join", boardId="board-2"))["code"] == "forbidden"
    assert (await send(edc, type="create_task", boardId="board-2", listId="b2-todo", title="x"))["code"] == "forbidden"
    await nothing(carol)


async def test_revoking_someone_else_leaves_a_member_alone(connect, users, ed):
    carol = await connect("carol")
    edc = await connect("ed")
    await join(edc, "board-2")
    await join(carol, "board-2")
    await next_frame(edc)  # user_joined carol
    vic = await sync_to_async(get_user_model().objects.create_user)("vic")
    membership = await sync_to_async(Membership.objects.create)(
        user=vic, board=await sync_to_async(Board.objects.get)(slug="board-2")
    )
    await sync_to_async(membership.delete)()
    for comm in (carol, edc):  # vic came and went; nobody else is touched
        assert (await next_frame(comm))["type"] == "member_added"
        await member_removed(comm, "vic")
    await nothing(carol)
    await nothing(edc)
    assert (await send(edc, type="ping"))["seqs"] == {"board-2": 4}  # ed, vic added; vic removed


async def test_deleting_the_user_revokes_every_connection(connect, users, ed):
    tabs = [await connect("ed") for _ in range(2)]
    carol = await connect("carol")
    await join(carol, "board-2")
    for tab in tabs:
        await join(tab, "board-2")
    await next_frame(tabs[0])  # the second tab arriving
    await next_frame(carol)
    await next_frame(carol)
    await sync_to_async(ed.delete)()
    for tab in tabs:
        await member_removed(tab)
        assert await next_frame(tab) == FORBIDDEN_B2
    await member_removed(carol)
    seen = [await next_frame(carol), await next_frame(carol)]
    assert [f["type"] for f in seen] == ["user_left", "user_left"]
    assert [f["viewers"] for f in seen] == [2, 1]


async def test_membership_moved_to_another_board_revokes_the_old_one(connect, users, ed):
    edc = await connect("ed")
    await join(edc, "board-2")

    def move():
        m = Membership.objects.get(user=ed)
        m.board = Board.objects.get(slug="board-1")
        m.save()

    await sync_to_async(move)()
    await member_removed(edc)  # from board-2's point of view ed went
    assert await next_frame(edc) == FORBIDDEN_B2


async def test_role_downgrade_keeps_watching_but_stops_changing(connect, users, ed):
    edc = await connect("ed")
    await join(edc, "board-2")
    await sync_to_async(Membership.objects.filter(user=ed).update)(role=Membership.VIEWER)
    await nothing(edc)
    reply = await send(edc, type="create_task", boardId="board-2", listId="b2-todo", title="x")
    assert reply["code"] == "forbidden"
    await sync_to_async(rest_create)("carol", "still watching")
    assert (await next_frame(edc))["task"]["title"] == "still watching"


async def test_board_turned_private_evicts_anonymous_and_non_members(connect, users):
    alice, bob, anon = await connect("alice"), await connect("bob"), await connect(None)
    carol = await connect("carol")  # a member of board-2, not of board-1
    for comm in (alice, bob, anon, carol):
        await join(comm, "board-1")
    for comm, arrivals in ((alice, 3), (bob, 2), (anon, 1)):
        for _ in range(arrivals):
            assert (await next_frame(comm))["type"] == "user_joined"

    def make_private():
        board = Board.objects.get(slug="board-1")
        board.visibility = Board.PRIVATE
        board.save()

    await sync_to_async(make_private)()
    evicted = {"type": "error", "code": "forbidden", "boardId": "board-1", "error": "You may no longer view board board-1"}
    for comm in (alice, bob, anon, carol):  # everyone hears the change, then the outsiders go
        frame = await next_frame(comm)
        assert (frame["type"], frame["board"]["visibility"], frame["actor"]) == ("board_updated", "private", None)
    assert await next_frame(anon) == evicted
    assert await next_frame(carol) == evicted
    gone = sorted([(await next_frame(alice))["user"]["name"], (await next_frame(alice))["user"]["name"]])
    assert gone == ["anonymous", "carol"]
    for _ in range(2):
        assert (await next_frame(bob))["type"] == "user_left"
    assert (await send(anon, type="join", boardId="board-1"))["code"] == "forbidden"
    # The members stay.
    assert (await send(bob, type="ping"))["seqs"] == {"board-1": 5}


async def test_join_racing_a_revocation_is_refused(connect, users, ed, monkeypatch):
    """The membership goes while the join is under way, right after its
    group_add: the join's read comes after group_add, so it refuses the join
    and leaves no trace."""
    carol = await connect("carol")
    await join(carol, "board-2")
    edc = await connect("ed")
    layer = get_channel_layer()  # the one instance every consumer uses
    real = layer.group_add

    async def add_then_revoke(group, channel):  # only ed joins from here on
        await real(group, channel)
        await sync_to_async(Membership.objects.filter(user=ed).delete)()

    monkeypatch.setattr(layer, "group_add", add_then_revoke)
    reply = await send(edc, type="join", boardId="board-2")
    assert reply == {"type": "error", "code": "forbidden", "error": "You may not view board board-2"}
    await sync_to_async(rest_create)("carol", "private")
    assert (await next_frame(edc))["notification"]["kind"] == "removed_from_board"  # SPEC §11; nothing else
    await nothing(edc)
    await member_removed(carol)
    assert (await next_frame(carol))["type"] == "task_created"  # and no user_joined/user_left
    assert (await send(carol, type="join", boardId="board-2"))["viewers"] == 1


@pytest.mark.redis
async def test_revocation_in_another_process_reaches_this_one(redis_mode, connect, users, ed):
    carol = await connect("carol")
    edc = await connect("ed")
    await join(edc, "board-2")
    await join(carol, "board-2")
    await next_frame(edc)
    code = "from boards.models import Membership; Membership.objects.get(user__username='ed').delete()"
    done = await sync_to_async(manage)("shell", "-c", code)
    assert done.returncode == 0, done.stderr
    await member_removed(edc, timeout=5)
    assert await next_frame(edc, timeout=5) == FORBIDDEN_B2
    await member_removed(carol, timeout=5)
    assert (await next_frame(carol, timeout=5))["type"] == "user_left"


# --- tickets ------------------------------------------------------------------------


async def test_ticket_redeemed_by_another_process_is_refused_here(users):
    ticket = await sync_to_async(tickets.issue)(users["carol"])
    code = "import os; from boards import tickets; print(tickets.redeem(os.environ['TICKET']).username)"
    done = await sync_to_async(manage)("shell", "-c", code, env=subprocess_env(TICKET=ticket))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-1] == "carol"  # the other process got it …
    await assert_refused(f"/ws/?ticket={ticket}", [], 4401)  # … so this one may not
    assert await sync_to_async(WsTicket.objects.count)() == 0


async def test_ticket_used_here_is_refused_by_another_process(users):
    ticket = await sync_to_async(tickets.issue)(users["carol"])
    comm, connected = await open_socket(f"/ws/?ticket={ticket}")
    assert connected
    assert (await join(comm, "board-2"))["users"][0]["name"] == "carol"
    code = "import os; from boards import tickets; print(tickets.redeem(os.environ['TICKET']))"
    done = await sync_to_async(manage)("shell", "-c", code, env=subprocess_env(TICKET=ticket))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-1] == "None"
    await comm.disconnect()


async def test_ticket_expires_after_its_ttl(users, settings):
    settings.LIVEBOARD_TICKET_TTL = 1
    fresh = await sync_to_async(tickets.issue)(users["carol"])
    stale = await sync_to_async(tickets.issue)(users["carol"])
    comm, connected = await open_socket(f"/ws/?ticket={fresh}")
    assert connected and (await join(comm, "board-2"))["users"][0]["name"] == "carol"
    await comm.disconnect()
    time.sleep(1.1)
    await assert_refused(f"/ws/?ticket={stale}", [], 4401)


def test_expired_tickets_are_swept_when_new_ones_are_issued(users):
    tickets.issue(users["carol"])
    WsTicket.objects.update(expires=timezone.now() - timedelta(seconds=1))
    tickets.issue(users["bob"])
    assert list(WsTicket.objects.values_list("user__username", flat=True)) == ["bob"]


# --- connections per user -------------------------------------------------------------


async def test_connections_per_user_limit(connect, users, settings):
    settings.LIVEBOARD_MAX_CONNECTIONS_PER_USER = 2
    first, second = await connect("alice"), await connect("alice")
    third = await connect("alice")
    assert await third.receive_json_from(timeout=3) == {
        "type": "error",
        "code": "rate_limited",
        "error": "Too many open connections for this user (limit 2)",
    }
    assert await third.receive_output(timeout=3) == {"type": "websocket.close", "code": 1008}
    await third.send_json_to({"type": "ping"})  # frames behind the close are not served
    await nothing(third, timeout=0.1)
    # Others (and anonymous sockets) are not counted against alice.
    for _ in range(2):
        await join(await connect("bob"))
    for _ in range(3):
        await join(await connect(None))
    await first.disconnect()
    fourth = await connect("alice")
    assert (await send(fourth, type="ping"))["type"] == "pong"
    assert (await send(second, type="ping"))["type"] == "pong"


# --- CSRF -------------------------------------------------------------------------------


def test_session_writes_need_the_csrf_token(users):
    client = Client(enforce_csrf_checks=True)
    client.force_login(users["bob"])
    body = json.dumps({"title": "csrf", "listId": "list-todo"})
    assert client.post("/api/tasks/", body, content_type="application/json").status_code == 403
    assert client.post("/api/ws-ticket/").status_code == 403
    assert not Task.objects.filter(title="csrf").exists()
    assert WsTicket.objects.count() == 0

    client.get("/boards/board-1/")  # the page sets the CSRF cookie its JS sends back
    token = client.cookies["csrftoken"].value
    resp = client.post("/api/tasks/", body, content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert resp.status_code == 201


def test_logout_form_is_csrf_protected(users):
    client = Client(enforce_csrf_checks=True)
    client.force_login(users["alice"])
    page = client.get("/")
    assert b'name="csrfmiddlewaretoken"' in page.content  # the logout form carries it
    assert client.post("/accounts/logout/").status_code == 403
    assert "_auth_user_id" in client.session
    token = client.cookies["csrftoken"].value
    assert client.post("/accounts/logout/", {"csrfmiddlewaretoken": token}).status_code == 302
    assert "_auth_user_id" not in client.session


# --- logs -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line, clean",
    [
        ("WSCONNECT /ws/?ticket=abc.DEF-123", "WSCONNECT /ws/?ticket=[redacted]"),
        ("GET /api/x/?a=1&token=zz&b=2 HTTP/1.1", "GET /api/x/?a=1&token=[redacted]&b=2 HTTP/1.1"),
        ('"GET /?Ticket=x&sessionid=y" 200', '"GET /?Ticket=[redacted]&sessionid=[redacted]" 200'),
        ("/ws/?notaticket=1", "/ws/?notaticket=1"),
        ("no query here", "no query here"),
    ],
)
def test_redact(line, clean):
    assert redact(line) == clean


def test_runserver_request_log_is_redacted(demo):
    """`manage.py runserver` logs requests through django.channels.server."""
    from daphne.management.commands.runserver import Command

    handler = next(h for h in logging.getLogger("django").handlers if any(isinstance(f, RedactSecrets) for f in h.filters))
    stream = io.StringIO()
    old = handler.setStream(stream)
    try:
        details = {"path": "/api/boards/?ticket=s3cr3t", "status": 200, "method": "GET", "client": "1:2", "time_taken": 0.1}
        Command().log_action("http", "complete", details)
        Command().log_action("websocket", "connected", {"path": "/ws/?ticket=s3cr3t", "client": "1:2"})
        logging.getLogger("boards").warning("odd request %s", "/ws/?ticket=s3cr3t")
    finally:
        handler.setStream(old)
    out = stream.getvalue()
    assert "s3cr3t" not in out
    assert out.count("ticket=[redacted]") == 3


# --- production settings ------------------------------------------------------------------

HTTPS_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "x" * 20 + "-a-long-random-production-key-" + "y" * 30,
    "ALLOWED_HOSTS": "board.example.com",
    "SECURE_SSL_REDIRECT": "1",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
    "SECURE_HSTS_PRELOAD": "1",
    "SESSION_COOKIE_SECURE": "1",
    "CSRF_COOKIE_SECURE": "1",
}


def deploy_check(env):
    full = {k: v for k, v in os.environ.items() if k not in HTTPS_ENV}
    full.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR, env=full, capture_output=True, text=True, timeout=60,
    )


def test_check_deploy_is_clean_with_the_https_settings():
    done = deploy_check(HTTPS_ENV)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues (0 silenced)." in done.stdout


def test_check_deploy_flags_a_bare_production_config():
    done = deploy_check({"DEBUG": "0", "SECRET_KEY": HTTPS_ENV["SECRET_KEY"]})
    assert done.returncode != 0
    for warning in ("security.W008", "security.W004", "security.W012", "security.W016"):
        assert warning in done.stderr + done.stdout
