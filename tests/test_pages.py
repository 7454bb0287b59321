"""Server-rendered pages, login, static files and the admin (SPEC §6)."""

import json
import re

import pytest
from asgiref.sync import sync_to_async
from channels.testing import ApplicationCommunicator
from django.contrib.auth import get_user_model
from django.test import Client

from boards.models import Board, BoardEvent, Task
from tests.support.api import actor
from tests.support.wsclient import join, nothing

pytestmark = pytest.mark.django_db(transaction=True)


def client_as(user=None):
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def embedded_snapshot(html):
    match = re.search(r'<script id="board-snapshot" type="application/json">(.*?)</script>', html, re.S)
    assert match, "board-snapshot json_script missing"
    return json.loads(match.group(1))


# --- board list -------------------------------------------------------------------


def test_board_list_anonymous_sees_public_boards_only(demo):
    resp = Client().get("/")
    assert resp.status_code == 200
    html = resp.content.decode()
    assert 'href="/boards/board-1/"' in html
    assert "Liveboard launch" in html
    assert "/boards/board-2/" not in html
    assert "private board" not in html
    assert [b.slug for b in resp.context["boards"]] == ["board-1"]


def test_board_list_member_sees_private_boards(users):
    resp = client_as(users["carol"]).get("/")
    assert resp.status_code == 200
    html = resp.content.decode()
    assert 'href="/boards/board-1/"' in html
    assert 'href="/boards/board-2/"' in html
    assert [b.slug for b in resp.context["boards"]] == ["board-1", "board-2"]
    assert "/boards/board-2/" not in client_as(users["bob"]).get("/").content.decode()


# --- board page ---------------------------------------------------------------------


def test_board_page_renders_columns_cards_and_snapshot(demo):
    resp = Client().get("/boards/board-1/")
    assert resp.status_code == 200
    assert resp["Content-Type"].startswith("text/html")
    html = resp.content.decode()
    for title in ("Write the README", "Try it with wscat", "Drag a card between columns", "Run manage.py demo"):
        assert title in html
    for name in ("To do", "Doing", "Done"):
        assert f"<h2>{name}</h2>" in html
    assert 'id="board-snapshot"' in html
    snapshot = embedded_snapshot(html)
    assert snapshot["id"] == "board-1"
    assert snapshot["seq"] == 4
    assert [lst["id"] for lst in snapshot["lists"]] == ["list-todo", "list-doing", "list-done"]
    assert [t["title"] for t in snapshot["tasks"]] == [
        "Write the README", "Try it with wscat", "Drag a card between columns", "Run manage.py demo",
    ]
    assert "boards/js/main.js" in html
    # Anonymous viewers get the read-only page: no add-task form.
    assert 'class="add-task"' not in html


def test_board_page_escapes_task_text(users):
    Task.objects.create(list_id="list-todo", title="<script>alert(1)</script></script>", description="&<>")
    resp = Client().get("/boards/board-1/")
    html = resp.content.decode()
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    snapshot = embedded_snapshot(html)
    assert snapshot["tasks"][2]["title"] == "<script>alert(1)</script></script>"
    assert snapshot["seq"] == 5


def test_board_page_for_an_editor_has_the_add_form(users):
    html = client_as(users["bob"]).get("/boards/board-1/").content.decode()
    assert 'class="add-task"' in html
    html = client_as(users["carol"]).get("/boards/board-1/").content.decode()
    assert 'class="add-task"' not in html  # carol has no role on board-1


def test_private_board_page(users):
    resp = Client().get("/boards/board-2/")
    assert resp.status_code == 302
    assert resp["Location"] == "/accounts/login/?next=/boards/board-2/"

    resp = client_as(users["bob"]).get("/boards/board-2/")
    assert resp.status_code == 403
    assert b"Plan the quarter" not in resp.content

    resp = client_as(users["carol"]).get("/boards/board-2/")
    assert resp.status_code == 200
    assert b"Plan the quarter" in resp.content
    assert embedded_snapshot(resp.content.decode())["seq"] == 1


def test_unknown_board_page_is_404(users):
    assert Client().get("/boards/no-such-board/").status_code == 404
    assert client_as(users["carol"]).get("/boards/no-such-board/").status_code == 404


# --- login --------------------------------------------------------------------------


def test_login_page_and_login(demo):
    client = Client()
    resp = client.get("/accounts/login/")
    assert resp.status_code == 200
    assert b'name="username"' in resp.content
    assert b'name="password"' in resp.content

    resp = client.post("/accounts/login/", {"username": "alice", "password": "wrong"})
    assert resp.status_code == 200
    assert "_auth_user_id" not in client.session

    resp = client.post("/accounts/login/", {"username": "alice", "password": "liveboard-demo"})
    assert resp.status_code == 302
    assert resp["Location"] == "/"
    alice = get_user_model().objects.get(username="alice")
    assert client.session["_auth_user_id"] == str(alice.pk)
    assert b"alice" in client.get("/").content


def test_login_redirects_to_next(users):
    client = Client()
    resp = client.post(
        "/accounts/login/?next=/boards/board-2/",
        {"username": "carol", "password": "liveboard-demo", "next": "/boards/board-2/"},
    )
    assert resp.status_code == 302
    assert resp["Location"] == "/boards/board-2/"
    assert client.get("/boards/board-2/").status_code == 200


def test_login_enforces_csrf(demo):
    client = Client(enforce_csrf_checks=True)
    resp = client.post("/accounts/login/", {"username": "alice", "password": "liveboard-demo"})
    assert resp.status_code == 403


# --- static files -------------------------------------------------------------------


def test_static_board_js_is_served_by_whitenoise(demo):
    resp = Client().get("/static/boards/js/main.js")
    assert resp.status_code == 200
    assert "javascript" in resp["Content-Type"]
    body = b"".join(resp.streaming_content)
    assert len(body) > 0
    assert b"WebSocket" in body
    assert Client().get("/static/boards/board.css").status_code == 200
    assert Client().get("/static/boards/no-such-file.js").status_code == 404


async def asgi_get(path):
    """One GET through boardsite.asgi.application, as daphne would send it.

    (channels' HttpCommunicator insists on a `body` key in every body message;
    Django's last message may omit it, which ASGI allows.)
    """
    from boardsite.asgi import application

    scope = {
        "type": "http", "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"",
        "headers": [(b"host", b"localhost")], "server": ("localhost", 80),
    }
    comm = ApplicationCommunicator(application, scope)
    await comm.send_input({"type": "http.request", "body": b""})
    start = await comm.receive_output(timeout=3)
    assert start["type"] == "http.response.start"
    body = b""
    while True:
        chunk = await comm.receive_output(timeout=3)
        assert chunk["type"] == "http.response.body"
        body += chunk.get("body", b"")
        if not chunk.get("more_body", False):
            break
    await comm.wait(timeout=3)
    return {"status": start["status"], "headers": start.get("headers", []), "body": body}


@pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators")
async def test_static_file_through_the_asgi_application(demo):
    response = await asgi_get("/static/boards/js/main.js")
    assert response["status"] == 200
    headers = {k.lower(): v for k, v in response["headers"]}
    assert b"javascript" in headers[b"content-type"]
    assert b"WebSocket" in response["body"]


async def test_api_through_the_asgi_application(demo):
    response = await asgi_get("/api/boards/")
    assert response["status"] == 200
    assert json.loads(response["body"]) == [
        {"id": "board-1", "name": "Liveboard launch", "visibility": "public", "seq": 4}
    ]


# --- admin ---------------------------------------------------------------------------


def admin_client():
    get_user_model().objects.create_superuser("root", "root@example.com", "admin-pass-123")
    client = Client()
    assert client.login(username="root", password="admin-pass-123")
    return client


def admin_change_task(client, task, **changes):
    """Fetch the admin change form, keep every field's value, change some, save."""
    url = f"/admin/boards/task/{task.pk}/change/"
    resp = client.get(url)
    assert resp.status_code == 200
    form = resp.context["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        data[name] = "" if value is None else value
    data.update(changes)
    data["_save"] = "Save"
    return client.post(url, data)


def test_admin_needs_staff(users):
    resp = Client().get("/admin/")
    assert resp.status_code == 302
    assert resp["Location"].startswith("/admin/login/")
    resp = client_as(users["alice"]).get("/admin/")
    assert resp.status_code == 302


def test_admin_pages_render(users):
    client = admin_client()
    for url in ("/admin/", "/admin/boards/board/", "/admin/boards/task/", "/admin/boards/list/",
                "/admin/boards/membership/", "/admin/boards/boardevent/"):
        assert client.get(url).status_code == 200, url
    board = Board.objects.get(slug="board-1")
    assert client.get(f"/admin/boards/board/{board.pk}/change/").status_code == 200


def test_admin_edit_records_task_updated(users):
    client = admin_client()
    task = Task.objects.get(title="Try it with wscat")
    resp = admin_change_task(client, task, title="Edited in admin")
    assert resp.status_code == 302, resp.context["adminform"].form.errors if resp.context else resp
    assert resp["Location"] == "/admin/boards/task/"
    task.refresh_from_db()
    assert (task.title, task.version, task.list_id, task.position) == ("Edited in admin", 2, "list-todo", 1)
    event = BoardEvent.objects.get(board__slug="board-1", seq=5)
    assert event.type == "task_updated"
    assert event.payload["task"] == {
        "id": task.pk, "listId": "list-todo", "title": "Edited in admin", "description": "",
        "position": 1, "version": 2, "assignee": None,
    }
    assert event.payload["actor"] == actor("root")
    # Saving the form again without a change records nothing.
    resp = admin_change_task(client, task)
    assert resp.status_code == 302
    assert Board.objects.get(slug="board-1").last_seq == 5


def test_admin_move_and_delete_record_events(users):
    client = admin_client()
    task = Task.objects.get(title="Write the README")
    resp = admin_change_task(client, task, list="list-done", position=0)
    assert resp.status_code == 302
    assert BoardEvent.objects.get(board__slug="board-1", seq=5).type == "task_moved"
    assert list(Task.objects.filter(list_id="list-done").order_by("position").values_list("title", flat=True)) == [
        "Write the README", "Run manage.py demo",
    ]
    assert list(Task.objects.filter(list_id="list-todo").values_list("position", flat=True)) == [0]

    resp = client.post(f"/admin/boards/task/{task.pk}/delete/", {"post": "yes"})
    assert resp.status_code == 302
    assert not Task.objects.filter(pk=task.pk).exists()
    event = BoardEvent.objects.get(board__slug="board-1", seq=6)
    assert event.payload == {"type": "task_deleted", "boardId": "board-1", "seq": 6, "taskId": task.pk, "actor": actor("root")}
    assert list(Task.objects.filter(list_id="list-done").values_list("position", flat=True)) == [0]


def test_admin_refuses_moving_a_task_to_another_board(users):
    client = admin_client()
    task = Task.objects.get(title="Write the README")
    resp = admin_change_task(client, task, list="b2-todo")
    assert resp.status_code == 200  # the form is shown again with an error
    assert resp.context["adminform"].form.errors
    task.refresh_from_db()
    assert task.list_id == "list-todo"
    assert Board.objects.get(slug="board-1").last_seq == 4
    assert Board.objects.get(slug="board-2").last_seq == 1


async def test_admin_save_broadcasts_to_the_room(connect, users):
    watcher = await connect("alice")
    await join(watcher)
    anon = await connect(None)
    await join(anon)
    await watcher.receive_json_from(timeout=3)  # user_joined (anonymous)

    def edit():
        client = admin_client()
        task = Task.objects.get(title="Try it with wscat")
        resp = admin_change_task(client, task, title="Live from admin")
        return resp.status_code, task.pk

    status, pk = await sync_to_async(edit)()
    assert status == 302
    expected = {
        "type": "task_updated",
        "boardId": "board-1",
        "seq": 5,
        "task": {"id": pk, "listId": "list-todo", "title": "Live from admin", "description": "",
                 "position": 1, "version": 2, "assignee": None},
        "actor": actor("root"),
    }
    assert await watcher.receive_json_from(timeout=3) == expected
    assert await anon.receive_json_from(timeout=3) == expected
    await nothing(watcher)


def test_the_board_list_says_how_many_tasks_each_board_has_not_its_seq(demo):
    html = Client().get("/").content.decode()
    assert "4 tasks" in html and "#" + str(Board.objects.get(slug="board-1").last_seq) not in html


def test_a_members_board_list_counts_each_task_once(users):
    client = Client()
    client.force_login(users["carol"])  # board-1 is public, board-2 hers: the query joins her membership
    html = client.get("/").content.decode()
    assert "4 tasks</span>" in html and "1 task</span>" in html
