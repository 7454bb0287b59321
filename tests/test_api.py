"""The REST API of SPEC §6: tokens, boards, snapshots, task changes, polling."""

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from boards.models import Board, BoardEvent, Membership, Task
from tests.support.wsclient import join, nothing

pytestmark = pytest.mark.django_db(transaction=True)

TASK_KEYS = {"id", "listId", "title", "description", "position", "version"}


def client_for(user=None):
    """An APIClient that authenticates with a real `Authorization: Token` header."""
    client = APIClient()
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def task_id(title):
    return Task.objects.get(title=title).pk


def titles_and_positions(list_id):
    return list(Task.objects.filter(list_id=list_id).order_by("position").values_list("title", "position"))


def board_state():
    """Everything a refused request must leave untouched."""
    return (
        Task.objects.count(),
        BoardEvent.objects.count(),
        dict(Board.objects.values_list("slug", "last_seq")),
        sorted(Task.objects.values_list("pk", "list_id", "title", "description", "position", "version")),
    )


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


# --- POST /api/tasks/ -----------------------------------------------------------


def test_create_task(users):
    resp = client_for(users["bob"]).post("/api/tasks/", {"title": "Ship it", "listId": "list-todo"}, format="json")
    assert resp.status_code == 201
    body = resp.json()
    task = Task.objects.get(title="Ship it")
    assert body == {
        "id": task.pk,
        "listId": "list-todo",
        "title": "Ship it",
        "description": "",
        "position": 2,
        "version": 1,
        "boardId": "board-1",
        "seq": 5,
    }
    assert (task.list_id, task.position, task.version) == ("list-todo", 2, 1)
    event = BoardEvent.objects.get(board__slug="board-1", seq=5)
    assert event.type == "task_created"
    assert event.payload == {
        "type": "task_created",
        "boardId": "board-1",
        "seq": 5,
        "task": {k: body[k] for k in TASK_KEYS},
    }
    assert Board.objects.get(slug="board-1").last_seq == 5


def test_create_task_at_a_position_shifts_the_others(users):
    resp = client_for(users["alice"]).post(
        "/api/tasks/",
        {"title": "First!", "listId": "list-todo", "position": 0, "description": "top"},
        format="json",
    )
    assert resp.status_code == 201
    assert (resp.json()["position"], resp.json()["description"]) == (0, "top")
    assert titles_and_positions("list-todo") == [("First!", 0), ("Write the README", 1), ("Try it with wscat", 2)]


@pytest.mark.parametrize(
    "payload, status, errors",
    [
        ({"listId": "list-todo"}, 400, {"title": ["This field is required."]}),
        ({"title": "", "listId": "list-todo"}, 400, {"title": ["This field may not be blank."]}),
        ({"title": "x" * 201, "listId": "list-todo"}, 400, {"title": ["Ensure this field has no more than 200 characters."]}),
        ({"title": 42, "listId": "list-todo"}, 400, {"title": ["Not a valid string."]}),
        ({"title": True, "listId": "list-todo"}, 400, {"title": ["Not a valid string."]}),
        ({"title": "ok"}, 400, {"listId": ["This field is required."]}),
        ({"title": "ok", "listId": "list-nope"}, 404, {"detail": "Unknown list: list-nope", "code": "not_found"}),
        (
            {"title": "ok", "listId": "list-todo", "description": "d" * 10_001},
            400,
            {"description": ["Ensure this field has no more than 10000 characters."]},
        ),
        (
            {"title": "ok", "listId": "list-todo", "position": -1},
            400,
            {"position": ["Ensure this value is greater than or equal to 0."]},
        ),
        ({"title": "ok", "listId": "list-todo", "position": "3"}, 400, {"position": ["A whole number is required."]}),
        ({"title": "ok", "listId": "list-todo", "position": 1.5}, 400, {"position": ["A whole number is required."]}),
        ({"title": "ok", "listId": "list-todo", "color": "red"}, 400, {"color": ["Unknown field."]}),
        (
            {"title": "ok", "listId": "b2-todo", "boardId": "board-1"},
            400,  # boardId and listId disagree: bad input, whatever bob may see
            {"detail": "List b2-todo is not on board board-1", "code": "bad_request", "listId": ["Not on this board."]},
        ),
        (
            {"title": "ok", "listId": "list-todo", "boardId": "board-2"},
            403,
            {"detail": "You may not view board board-2", "code": "forbidden"},
        ),
    ],
)
def test_create_task_bad_input_changes_nothing(users, payload, status, errors):
    before = board_state()
    resp = client_for(users["bob"]).post("/api/tasks/", payload, format="json")
    assert resp.status_code == status, resp.content
    assert resp.json() == errors
    assert board_state() == before


def test_create_task_board_mismatch_is_400(users):
    carol = users["carol"]
    Membership.objects.create(user=carol, board=Board.objects.get(slug="board-1"), role=Membership.EDITOR)
    before = board_state()
    resp = client_for(carol).post(
        "/api/tasks/", {"title": "ok", "listId": "b2-todo", "boardId": "board-1"}, format="json"
    )
    assert resp.status_code == 400
    assert resp.json() == {
        "detail": "List b2-todo is not on board board-1",
        "code": "bad_request",
        "listId": ["Not on this board."],
    }
    assert board_state() == before


def test_create_task_not_json_is_rejected(users):
    before = board_state()
    client = client_for(users["bob"])
    resp = client.post("/api/tasks/", "{not json", content_type="application/json")
    assert resp.status_code == 400
    resp = client.post("/api/tasks/", [1, 2], format="json")
    assert resp.status_code == 400
    assert resp.json() == {"non_field_errors": ["Expected a JSON object."]}
    resp = client.post("/api/tasks/", "title=x&listId=list-todo", content_type="application/x-www-form-urlencoded")
    assert resp.status_code == 415
    assert board_state() == before


def test_create_task_needs_login(demo):
    before = board_state()
    resp = APIClient().post("/api/tasks/", {"title": "anon", "listId": "list-todo"}, format="json")
    assert resp.status_code == 401
    assert resp.json() == {"detail": "Authentication credentials were not provided."}
    assert resp["WWW-Authenticate"] == "Token"
    assert board_state() == before


def test_create_task_without_permission(users):
    before = board_state()
    resp = client_for(users["bob"]).post("/api/tasks/", {"title": "sneaky", "listId": "b2-todo"}, format="json")
    assert resp.status_code == 403
    assert resp.json() == {"detail": "You may not view board board-2", "code": "forbidden"}

    # carol owns board-2 but has no role on board-1: public boards are read-only for her.
    resp = client_for(users["carol"]).post("/api/tasks/", {"title": "sneaky", "listId": "list-todo"}, format="json")
    assert resp.status_code == 403
    assert resp.json() == {"detail": "You may not change tasks on board board-1", "code": "forbidden"}

    viewer = get_user_model().objects.create_user("victor", password="x-liveboard-demo")
    Membership.objects.create(user=viewer, board=Board.objects.get(slug="board-2"), role=Membership.VIEWER)
    resp = client_for(viewer).post("/api/tasks/", {"title": "sneaky", "listId": "b2-todo"}, format="json")
    assert resp.status_code == 403
    assert resp.json() == {"detail": "You may not change tasks on board board-2", "code": "forbidden"}
    # ...but the viewer may read it.
    assert client_for(viewer).get("/api/boards/board-2/").status_code == 200
    assert board_state() == before


# --- PATCH / DELETE /api/tasks/<id>/ -------------------------------------------


def test_get_task(users):
    pk = task_id("Plan the quarter")
    resp = client_for(users["carol"]).get(f"/api/tasks/{pk}/")
    assert resp.status_code == 200
    assert resp.json() == {
        "id": pk, "listId": "b2-todo", "title": "Plan the quarter", "description": "",
        "position": 0, "version": 1, "boardId": "board-2",
    }
    assert client_for(users["bob"]).get(f"/api/tasks/{pk}/").status_code == 403
    assert APIClient().get(f"/api/tasks/{pk}/").status_code in (401, 403)
    assert client_for(users["bob"]).get("/api/tasks/999999/").status_code == 404


def test_patch_title_is_task_updated(users):
    pk = task_id("Try it with wscat")
    resp = client_for(users["bob"]).patch(f"/api/tasks/{pk}/", {"title": "Try it with websocat"}, format="json")
    assert resp.status_code == 200
    assert resp.json() == {
        "id": pk, "listId": "list-todo", "title": "Try it with websocat", "description": "",
        "position": 1, "version": 2, "boardId": "board-1", "seq": 5,
    }
    event = BoardEvent.objects.get(board__slug="board-1", seq=5)
    assert event.type == "task_updated"
    assert event.payload["task"]["title"] == "Try it with websocat"
    assert event.payload["task"]["version"] == 2
    assert titles_and_positions("list-todo") == [("Write the README", 0), ("Try it with websocat", 1)]

    # description with the current version succeeds and bumps again
    resp = client_for(users["bob"]).patch(f"/api/tasks/{pk}/", {"description": "  spaced  ", "version": 2}, format="json")
    assert resp.status_code == 200
    assert (resp.json()["description"], resp.json()["version"], resp.json()["seq"]) == ("  spaced  ", 3, 6)
    assert BoardEvent.objects.get(board__slug="board-1", seq=6).type == "task_updated"


def test_patch_move_across_lists_renumbers_both(users):
    pk = task_id("Write the README")
    resp = client_for(users["bob"]).patch(
        f"/api/tasks/{pk}/", {"listId": "list-doing", "position": 0}, format="json"
    )
    assert resp.status_code == 200
    body = resp.json()
    assert (body["listId"], body["position"], body["version"], body["seq"]) == ("list-doing", 0, 2, 5)
    event = BoardEvent.objects.get(board__slug="board-1", seq=5)
    assert event.type == "task_moved"
    assert event.payload == {
        "type": "task_moved", "boardId": "board-1", "seq": 5,
        "task": {k: body[k] for k in TASK_KEYS},
    }
    assert titles_and_positions("list-todo") == [("Try it with wscat", 0)]
    assert titles_and_positions("list-doing") == [("Write the README", 0), ("Drag a card between columns", 1)]
    # Neighbours are renumbered silently: one change, one event.
    assert Board.objects.get(slug="board-1").last_seq == 5
    assert Task.objects.get(title="Drag a card between columns").version == 1


def test_patch_move_within_list_and_clamp(users):
    client = client_for(users["alice"])
    for title in ("c", "d"):
        assert client.post("/api/tasks/", {"title": title, "listId": "list-todo"}, format="json").status_code == 201
    pk = task_id("Write the README")
    resp = client.patch(f"/api/tasks/{pk}/", {"position": 2}, format="json")
    assert resp.status_code == 200
    assert resp.json()["position"] == 2
    assert titles_and_positions("list-todo") == [("Try it with wscat", 0), ("c", 1), ("Write the README", 2), ("d", 3)]
    # A position past the end appends.
    resp = client.patch(f"/api/tasks/{pk}/", {"position": 99}, format="json")
    assert resp.status_code == 200
    assert resp.json()["position"] == 3
    assert titles_and_positions("list-todo") == [("Try it with wscat", 0), ("c", 1), ("d", 2), ("Write the README", 3)]
    assert BoardEvent.objects.get(board__slug="board-1", seq=8).type == "task_moved"


def test_patch_stale_version_is_409_with_current_task(users):
    pk = task_id("Write the README")
    client = client_for(users["bob"])
    assert client.patch(f"/api/tasks/{pk}/", {"title": "v2"}, format="json").status_code == 200
    before = board_state()
    resp = client.patch(f"/api/tasks/{pk}/", {"title": "from v1", "version": 1}, format="json")
    assert resp.status_code == 409
    body = resp.json()
    assert body["code"] == "conflict"
    assert body["task"] == {
        "id": pk, "listId": "list-todo", "title": "v2", "description": "", "position": 0, "version": 2,
    }
    assert board_state() == before


def test_patch_to_another_boards_list_is_400(users):
    carol = users["carol"]
    Membership.objects.create(user=carol, board=Board.objects.get(slug="board-1"), role=Membership.EDITOR)
    pk = task_id("Write the README")
    before = board_state()
    resp = client_for(carol).patch(f"/api/tasks/{pk}/", {"listId": "b2-todo"}, format="json")
    assert resp.status_code == 400
    assert resp.json()["listId"] == ["Not on this board."]
    assert board_state() == before
    assert Task.objects.get(pk=pk).list_id == "list-todo"


@pytest.mark.parametrize(
    "payload, errors",
    [
        ({"title": ""}, {"title": ["This field may not be blank."]}),
        ({"title": None}, {"title": ["This field may not be null."]}),
        ({"position": "1"}, {"position": ["A whole number is required."]}),
        ({"version": 0}, {"version": ["Ensure this value is greater than or equal to 1."]}),
        ({"listId": 7}, {"listId": ["Not a valid string."]}),
        ({"id": 3}, {"id": ["Unknown field."]}),
    ],
)
def test_patch_bad_input_changes_nothing(users, payload, errors):
    pk = task_id("Write the README")
    before = board_state()
    resp = client_for(users["bob"]).patch(f"/api/tasks/{pk}/", payload, format="json")
    assert resp.status_code == 400
    assert resp.json() == errors
    assert board_state() == before


def test_patch_permissions_and_unknown(users):
    pk = task_id("Write the README")
    before = board_state()
    resp = APIClient().patch(f"/api/tasks/{pk}/", {"title": "anon"}, format="json")
    assert resp.status_code == 401
    resp = client_for(users["carol"]).patch(f"/api/tasks/{pk}/", {"title": "carol"}, format="json")
    assert resp.status_code == 403
    resp = client_for(users["bob"]).patch(f"/api/tasks/{task_id('Plan the quarter')}/", {"title": "bob"}, format="json")
    assert resp.status_code == 403
    resp = client_for(users["bob"]).patch("/api/tasks/999999/", {"title": "ghost"}, format="json")
    assert resp.status_code == 404
    assert resp.json() == {"detail": "Unknown task: 999999", "code": "not_found"}
    assert board_state() == before


def test_delete_task(users):
    pk = task_id("Write the README")
    client = client_for(users["bob"])
    resp = client.delete(f"/api/tasks/{pk}/")
    assert resp.status_code == 204
    assert resp.content == b""
    assert not Task.objects.filter(pk=pk).exists()
    event = BoardEvent.objects.get(board__slug="board-1", seq=5)
    assert event.type == "task_deleted"
    assert event.payload == {"type": "task_deleted", "boardId": "board-1", "seq": 5, "taskId": pk}
    assert titles_and_positions("list-todo") == [("Try it with wscat", 0)]

    resp = client.delete(f"/api/tasks/{pk}/")
    assert resp.status_code == 404
    assert client.delete("/api/tasks/999999/").status_code == 404
    assert Board.objects.get(slug="board-1").last_seq == 5


def test_delete_permissions(users):
    pk = task_id("Try it with wscat")
    before = board_state()
    assert APIClient().delete(f"/api/tasks/{pk}/").status_code == 401
    assert client_for(users["carol"]).delete(f"/api/tasks/{pk}/").status_code == 403
    assert client_for(users["bob"]).delete(f"/api/tasks/{task_id('Plan the quarter')}/").status_code == 403
    assert board_state() == before


def test_delete_with_stale_version_is_409(users):
    pk = task_id("Try it with wscat")
    client = client_for(users["bob"])
    assert client.patch(f"/api/tasks/{pk}/", {"title": "v2"}, format="json").status_code == 200
    before = board_state()
    resp = client.delete(f"/api/tasks/{pk}/?version=1")
    assert resp.status_code == 409
    assert resp.json()["task"]["version"] == 2
    assert board_state() == before
    assert client.delete(f"/api/tasks/{pk}/?version=2").status_code == 204


# --- GET /api/boards/<id>/events -------------------------------------------------


def test_events_since(demo):
    client = APIClient()
    resp = client.get("/api/boards/board-1/events?since=2")
    assert resp.status_code == 200
    body = resp.json()
    assert body["seq"] == 4
    assert [e["seq"] for e in body["events"]] == [3, 4]
    for frame in body["events"]:
        assert set(frame) == {"type", "boardId", "seq", "task"}
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
        "task": {"id": pk, "listId": "list-todo", "title": "renamed", "description": "", "position": 0, "version": 2},
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
    expected = {"type": "task_created", "boardId": "board-1", "seq": 5, "task": task}
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
        "type": "task_deleted", "boardId": "board-1", "seq": 6, "taskId": body["id"],
    }
    await nothing(watcher)


async def test_refused_rest_change_broadcasts_nothing(connect, users):
    watcher = await connect(None)
    await join(watcher)

    def refused():
        return client_for(users["bob"]).post("/api/tasks/", {"title": "", "listId": "list-doing"}, format="json")

    assert (await sync_to_async(refused)()).status_code == 400
    await nothing(watcher)
