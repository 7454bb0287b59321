"""The REST API of SPEC §6: creating, changing and deleting tasks."""

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from boards.models import Board, BoardEvent, Membership, Task
from tests.support.api import TASK_KEYS, actor, board_state, client_for, task_id, titles_and_positions

pytestmark = pytest.mark.django_db(transaction=True)

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
        "assignee": None,
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
        "actor": actor("bob"),
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
    before = board_state()  # the new membership is an event (member_added) of its own
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
        "position": 0, "version": 1, "assignee": None, "boardId": "board-2",
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
        "position": 1, "version": 2, "assignee": None, "boardId": "board-1", "seq": 5,
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
        "task": {k: body[k] for k in TASK_KEYS}, "actor": actor("bob"),
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
        "id": pk, "listId": "list-todo", "title": "v2", "description": "", "position": 0, "version": 2, "assignee": None,
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
    assert event.payload == {"type": "task_deleted", "boardId": "board-1", "seq": 5, "taskId": pk, "actor": actor("bob")}
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


