"""The REST API of SPEC §6: tokens, boards, snapshots, polling, and REST changes reaching sockets."""

import pytest
from asgiref.sync import sync_to_async
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.support.api import TASK_KEYS, actor, client_for, task_id
from tests.support.wsclient import join, nothing

pytestmark = pytest.mark.django_db(transaction=True)

# --- auth/token -------------------------------------------------------------------


def test_token_login_and_use(demo):
    anon = APIClient()
    resp = anon.post("/api/auth/token/", {"username": "alice", "password": "liveboard-demo"}, format="json")
    assert resp.status_code == 200
    assert set(resp.json()) == {"token"}
    key = resp.json()["token"]
    assert Token.objects.get(key=key).user.username == "alice"

    # The same token again: DRF's ObtainAuthToken reuses it.
    again = anon.post("/api/auth/token/", {"username": "alice", "password": "liveboard-demo"}, format="json")
    assert again.json() == {"token": key}

    bad = anon.post("/api/auth/token/", {"username": "alice", "password": "nope"}, format="json")
    assert bad.status_code == 400
    assert "token" not in bad.json()
    assert bad.json() == {"non_field_errors": ["Unable to log in with provided credentials."]}

    missing = anon.post("/api/auth/token/", {"username": "alice"}, format="json")
    assert missing.status_code == 400
    assert missing.json() == {"password": ["This field is required."]}

    authed = APIClient()
    authed.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    # alice sees only the boards she may see; board-2 is carol's.
    assert [b["id"] for b in authed.get("/api/boards/").json()] == ["board-1"]
    assert authed.get("/api/boards/board-2/").status_code == 403
    ticket = authed.post("/api/ws-ticket/")
    assert ticket.status_code == 201

    wrong = APIClient()
    wrong.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    resp = wrong.get("/api/boards/")
    assert resp.status_code == 401
    assert resp.json() == {"detail": "Invalid token."}


def test_session_login_works_too(users):
    client = APIClient()
    assert client.login(username="bob", password="liveboard-demo")
    resp = client.post("/api/tasks/", {"title": "via session", "listId": "list-done"}, format="json")
    assert resp.status_code == 201
    assert resp.json()["title"] == "via session"


# --- boards ----------------------------------------------------------------------


def test_board_list_anonymous_sees_public_only(demo):
    resp = APIClient().get("/api/boards/")
    assert resp.status_code == 200
    assert resp.json() == [{"id": "board-1", "name": "Liveboard launch", "visibility": "public", "seq": 4}]


def test_board_list_member_sees_private_too(users):
    resp = client_for(users["carol"]).get("/api/boards/")
    assert resp.status_code == 200
    assert resp.json() == [
        {"id": "board-1", "name": "Liveboard launch", "visibility": "public", "seq": 4},
        {"id": "board-2", "name": "Carol's private board", "visibility": "private", "seq": 1},
    ]
    assert [b["id"] for b in client_for(users["bob"]).get("/api/boards/").json()] == ["board-1"]


def test_board_snapshot(demo):
    resp = APIClient().get("/api/boards/board-1/")
    assert resp.status_code == 200
    body = resp.json()
    assert body["id"] == "board-1"
    assert body["visibility"] == "public"
    assert body["seq"] == 4
    assert body["lists"] == [
        {"id": "list-todo", "name": "To do", "position": 0},
        {"id": "list-doing", "name": "Doing", "position": 1},
        {"id": "list-done", "name": "Done", "position": 2},
    ]
    for task in body["tasks"]:
        assert set(task) == TASK_KEYS
        assert task["version"] == 1
        assert task["description"] == ""
    assert [(t["listId"], t["position"], t["title"]) for t in body["tasks"]] == [
        ("list-todo", 0, "Write the README"),
        ("list-todo", 1, "Try it with wscat"),
        ("list-doing", 0, "Drag a card between columns"),
        ("list-done", 0, "Run manage.py demo"),
    ]
    assert [t["id"] for t in body["tasks"]] == [
        task_id(title) for title in ("Write the README", "Try it with wscat", "Drag a card between columns", "Run manage.py demo")
    ]


def test_board_snapshot_permissions(users):
    resp = client_for(users["bob"]).get("/api/boards/board-2/")
    assert resp.status_code == 403
    assert resp.json()["code"] == "forbidden"

    resp = APIClient().get("/api/boards/board-2/")
    assert resp.status_code in (401, 403)
    assert "tasks" not in resp.json()

    resp = client_for(users["carol"]).get("/api/boards/board-2/")
    assert resp.status_code == 200
    assert resp.json()["seq"] == 1
    assert [t["title"] for t in resp.json()["tasks"]] == ["Plan the quarter"]

    resp = client_for(users["carol"]).get("/api/boards/no-such-board/")
    assert resp.status_code == 404
    assert resp.json() == {"detail": "Unknown board: no-such-board", "code": "not_found"}


# --- GET /api/boards/<id>/events -------------------------------------------------


def test_events_since(demo):
    client = APIClient()
    resp = client.get("/api/boards/board-1/events?since=2")
    assert resp.status_code == 200
    body = resp.json()
    assert body["seq"] == 4
    assert [e["seq"] for e in body["events"]] == [3, 4]
    for frame in body["events"]:
        assert set(frame) == {"type", "boardId", "seq", "task", "actor"}
        assert frame["type"] == "task_created"
        assert frame["boardId"] == "board-1"
        assert set(frame["task"]) == TASK_KEYS
    assert [e["task"]["title"] for e in body["events"]] == ["Drag a card between columns", "Run manage.py demo"]

    everything = client.get("/api/boards/board-1/events?since=0").json()
    assert [e["seq"] for e in everything["events"]] == [1, 2, 3, 4]
    assert client.get("/api/boards/board-1/events").json() == everything  # since defaults to 0

    assert client.get("/api/boards/board-1/events?since=4").json() == {"events": [], "seq": 4}


def test_events_replay_the_task_as_it_was(users):
    pk = task_id("Write the README")
    client_for(users["bob"]).patch(f"/api/tasks/{pk}/", {"title": "renamed"}, format="json")
    events = APIClient().get("/api/boards/board-1/events?since=0").json()["events"]
    assert events[0]["task"]["title"] == "Write the README"
    assert events[0]["task"]["version"] == 1
    assert events[4] == {
        "type": "task_updated", "boardId": "board-1", "seq": 5,
        "task": {"id": pk, "listId": "list-todo", "title": "renamed", "description": "", "position": 0, "version": 2, "assignee": None},
        "actor": actor("bob"),
    }


def test_events_errors(users):
    client = APIClient()
    resp = client.get("/api/boards/board-1/events?since=99")
    assert resp.status_code == 409
    assert resp.json()["type"] == "resync_required"
    assert resp.json()["seq"] == 4

    for bad in ("abc", "-1", "1.5", ""):
        resp = client.get("/api/boards/board-1/events", {"since": bad})
        assert resp.status_code == 400, bad
        assert "since" in resp.json()

    assert client_for(users["bob"]).get("/api/boards/board-2/events?since=0").status_code == 403
    assert client.get("/api/boards/board-2/events?since=0").status_code in (401, 403)
    resp = client_for(users["carol"]).get("/api/boards/board-2/events?since=0")
    assert resp.status_code == 200
    assert [e["seq"] for e in resp.json()["events"]] == [1]
    assert client.get("/api/boards/nope/events?since=0").status_code == 404


# --- REST changes reach sockets -----------------------------------------------------


async def test_rest_change_reaches_joined_socket(connect, users):
    watcher = await connect(None)
    await join(watcher)
    editor = await connect("alice")
    await join(editor)
    await watcher.receive_json_from(timeout=3)  # user_joined alice

    def create():
        return client_for(users["bob"]).post("/api/tasks/", {"title": "From REST", "listId": "list-doing"}, format="json")

    resp = await sync_to_async(create)()
    assert resp.status_code == 201
    body = resp.json()
    task = {k: body[k] for k in TASK_KEYS}
    expected = {"type": "task_created", "boardId": "board-1", "seq": 5, "task": task, "actor": actor("bob")}
    # A REST change has no sending socket: every member gets it.
    assert await watcher.receive_json_from(timeout=3) == expected
    assert await editor.receive_json_from(timeout=3) == expected

    def poll():
        return APIClient().get("/api/boards/board-1/events?since=4").json()

    # The polling endpoint serves the very same frame.
    assert await sync_to_async(poll)() == {"events": [expected], "seq": 5}

    def delete():
        return client_for(users["bob"]).delete(f"/api/tasks/{body['id']}/")

    assert (await sync_to_async(delete)()).status_code == 204
    assert await watcher.receive_json_from(timeout=3) == {
        "type": "task_deleted", "boardId": "board-1", "seq": 6, "taskId": body["id"], "actor": actor("bob"),
    }
    await nothing(watcher)


async def test_refused_rest_change_broadcasts_nothing(connect, users):
    watcher = await connect(None)
    await join(watcher)

    def refused():
        return client_for(users["bob"]).post("/api/tasks/", {"title": "", "listId": "list-doing"}, format="json")

    assert (await sync_to_async(refused)()).status_code == 400
    await nothing(watcher)
