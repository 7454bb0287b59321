"""Columns over REST (SPEC §12): POST /api/lists/, PATCH and DELETE /api/lists/<id>/,
each a list_* event that reaches the room like a socket change."""

import pytest
from asgiref.sync import sync_to_async

from boards.models import BoardEvent, List
from tests.support.api import actor, board_state, client_for
from tests.support.wsclient import join

pytestmark = pytest.mark.django_db(transaction=True)


def test_post_a_column_is_201_with_the_list_and_its_event(users):
    resp = client_for(users["bob"]).post("/api/lists/", {"boardId": "board-1", "name": "Review"}, format="json")
    assert resp.status_code == 201
    body = resp.json()
    assert (body["name"], body["position"], body["boardId"], body["seq"]) == ("Review", 3, "board-1", 5)
    event = BoardEvent.objects.get(board__slug="board-1", seq=5)
    assert event.payload == {
        "type": "list_created", "boardId": "board-1", "seq": 5,
        "list": {"id": body["id"], "name": "Review", "position": 3}, "actor": actor("bob"),
    }


def test_patch_renames_and_moves_a_column_keeping_positions_0_to_n(users):
    client = client_for(users["alice"])
    resp = client.patch("/api/lists/list-done/", {"name": "Shipped", "position": 0}, format="json")
    assert resp.status_code == 200
    assert resp.json() == {"id": "list-done", "name": "Shipped", "position": 0, "boardId": "board-1", "seq": 5}
    assert BoardEvent.objects.get(board__slug="board-1", seq=5).type == "list_moved"
    assert list(List.objects.filter(board__slug="board-1").order_by("position").values_list("id", "position")) == [
        ("list-done", 0), ("list-todo", 1), ("list-doing", 2),
    ]
    assert client.patch("/api/lists/list-done/", {"position": 99}, format="json").json()["position"] == 2  # clamped


def test_delete_an_empty_column_is_204_and_a_full_one_is_400(users):
    client = client_for(users["bob"])
    made = client.post("/api/lists/", {"boardId": "board-1", "name": "Tmp"}, format="json").json()
    assert client.delete(f"/api/lists/{made['id']}/").status_code == 204
    assert BoardEvent.objects.get(board__slug="board-1", seq=6).payload["listId"] == made["id"]
    before = board_state()
    resp = client.delete("/api/lists/list-todo/")
    assert resp.status_code == 400
    assert resp.json()["code"] == "bad_request" and resp.json()["listId"] == ["The column is not empty."]
    assert board_state() == before


@pytest.mark.parametrize(
    "method, url, body, status",
    [
        ("post", "/api/lists/", {"boardId": "board-1", "name": ""}, 400),
        ("post", "/api/lists/", {"boardId": "board-1", "name": "x" * 101}, 400),
        ("post", "/api/lists/", {"boardId": "board-1"}, 400),
        ("post", "/api/lists/", {"boardId": "board-404", "name": "x"}, 404),
        ("post", "/api/lists/", {"boardId": "board-2", "name": "x"}, 403),
        ("patch", "/api/lists/list-todo/", {}, 400),
        ("patch", "/api/lists/list-todo/", {"name": None}, 400),
        ("patch", "/api/lists/list-todo/", {"position": "first"}, 400),
        ("patch", "/api/lists/list-404/", {"name": "x"}, 404),
        ("delete", "/api/lists/list-404/", None, 404),
    ],
)
def test_bad_column_requests_are_refused_and_change_nothing(users, method, url, body, status):
    before = board_state()
    resp = getattr(client_for(users["bob"]), method)(url, body, format="json")
    assert resp.status_code == status, resp.content
    assert board_state() == before


async def test_a_rest_column_change_reaches_every_socket_on_the_board(connect, users):
    watcher = await connect("carol")
    await join(watcher)

    def rename():
        return client_for(users["alice"]).patch("/api/lists/list-doing/", {"name": "In progress"}, format="json")

    assert (await sync_to_async(rename)()).status_code == 200
    assert await watcher.receive_json_from(timeout=3) == {
        "type": "list_updated", "boardId": "board-1", "seq": 5,
        "list": {"id": "list-doing", "name": "In progress", "position": 1}, "actor": actor("alice"),
    }
