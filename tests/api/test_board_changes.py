"""Boards and members over REST (SPEC §12): create, rename, visibility, delete;
list, add, change role, remove; the events each makes and who may do it."""

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from boards.models import Board, List, Membership, Task
from tests.support.api import actor, board_state, client_for
from tests.support.wsclient import join, nothing

pytestmark = pytest.mark.django_db(transaction=True)


# --- boards --------------------------------------------------------------------------


def test_any_logged_in_user_creates_a_private_board_they_own_with_three_columns(users):
    resp = client_for(users["bob"]).post("/api/boards/", {"name": "Bob's garden"}, format="json")
    assert resp.status_code == 201
    body = resp.json()
    assert (body["id"], body["name"], body["visibility"], body["seq"]) == ("bobs-garden", "Bob's garden", "private", 0)
    assert [(lst["name"], lst["position"]) for lst in body["lists"]] == [("To do", 0), ("Doing", 1), ("Done", 2)]
    assert body["tasks"] == []
    assert body["members"] == [{"user": {"id": users["bob"].pk, "name": "bob"}, "role": "owner"}]
    # The same name again gets its own slug; a given slug is kept.
    again = client_for(users["carol"]).post("/api/boards/", {"name": "Bob's garden", "visibility": "public"}, format="json")
    assert again.json()["id"] == "bobs-garden-2" and again.json()["visibility"] == "public"
    mine = client_for(users["carol"]).post("/api/boards/", {"name": "X", "slug": "carol-x"}, format="json")
    assert mine.status_code == 201 and mine.json()["id"] == "carol-x"


@pytest.mark.parametrize(
    "body",
    [{}, {"name": ""}, {"name": "x" * 201}, {"name": "ok", "visibility": "secret"}, {"name": "ok", "slug": "no spaces"},
     {"name": "ok", "slug": "board-1"}, {"name": 3}, {"name": "ok", "extra": 1}],
)
def test_bad_new_boards_are_400_and_create_nothing(users, body):
    count = Board.objects.count()
    assert client_for(users["bob"]).post("/api/boards/", body, format="json").status_code == 400
    assert Board.objects.count() == count


def test_creating_a_board_needs_a_login(demo):
    assert APIClient().post("/api/boards/", {"name": "anon"}, format="json").status_code in (401, 403)


async def test_the_owner_renames_the_board_and_the_room_hears_board_updated(connect, users):
    watcher = await connect(None)
    await join(watcher)

    def rename():
        return client_for(users["alice"]).patch("/api/boards/board-1/", {"name": "Launch!"}, format="json")

    resp = await sync_to_async(rename)()
    assert resp.status_code == 200
    assert resp.json() == {"board": {"id": "board-1", "name": "Launch!", "visibility": "public"}, "seq": 5, "boardId": "board-1"}
    assert await watcher.receive_json_from(timeout=3) == {
        "type": "board_updated", "boardId": "board-1", "seq": 5,
        "board": {"id": "board-1", "name": "Launch!", "visibility": "public"}, "actor": actor("alice"),
    }


async def test_turning_a_board_private_over_rest_evicts_non_members(connect, users):
    anon = await connect(None)
    await join(anon)

    def hide():
        return client_for(users["alice"]).patch("/api/boards/board-1/", {"visibility": "private"}, format="json")

    assert (await sync_to_async(hide)()).status_code == 200
    assert (await anon.receive_json_from(timeout=3))["type"] == "board_updated"
    evicted = await anon.receive_json_from(timeout=3)
    assert (evicted["type"], evicted["code"], evicted["boardId"]) == ("error", "forbidden", "board-1")


async def test_deleting_a_board_tells_everyone_on_it_and_takes_them_out_of_the_room(connect, users):
    bob, anon = await connect("bob"), await connect(None)
    await join(bob)
    await join(anon)
    await bob.receive_json_from(timeout=3)  # user_joined

    def delete():
        return client_for(users["alice"]).delete("/api/boards/board-1/")

    assert (await sync_to_async(delete)()).status_code == 204
    for comm in (bob, anon):
        assert await comm.receive_json_from(timeout=3) == {"type": "board_deleted", "boardId": "board-1", "actor": actor("alice")}
    await nothing(bob)  # no user_left storm: everyone left together
    await bob.send_json_to({"type": "ping"})
    assert (await bob.receive_json_from(timeout=3))["seqs"] == {}
    assert not await sync_to_async(Board.objects.filter(slug="board-1").exists)()
    assert not await sync_to_async(Task.objects.filter(list__board__slug="board-1").exists)()


def test_only_owners_change_or_delete_a_board(users):
    before = board_state()
    for who in ("bob", "carol"):  # editor; stranger to board-1
        client = client_for(users[who])
        assert client.patch("/api/boards/board-1/", {"name": "mine"}, format="json").status_code == 403
        assert client.delete("/api/boards/board-1/").status_code == 403
    assert APIClient().delete("/api/boards/board-1/").status_code in (401, 403)
    assert client_for(users["alice"]).patch("/api/boards/board-1/", {}, format="json").status_code == 400
    assert client_for(users["alice"]).delete("/api/boards/board-404/").status_code == 404
    assert board_state() == before


# --- members -------------------------------------------------------------------------


def test_members_are_listed_owners_first_for_whoever_may_view(users):
    resp = APIClient().get("/api/boards/board-1/members/")
    assert resp.status_code == 200
    assert resp.json() == {"members": [
        {"user": {"id": users["alice"].pk, "name": "alice"}, "role": "owner"},
        {"user": {"id": users["bob"].pk, "name": "bob"}, "role": "editor"},
    ]}
    assert APIClient().get("/api/boards/board-2/members/").status_code in (401, 403)


async def test_owner_adds_changes_and_removes_a_member_and_the_room_hears_each(connect, users):
    watcher = await connect("bob")
    await join(watcher)
    owner = await sync_to_async(client_for)(users["alice"])

    resp = await sync_to_async(owner.post)("/api/boards/board-1/members/", {"username": "carol", "role": "viewer"}, format="json")
    assert resp.status_code == 201
    carol = {"id": users["carol"].pk, "name": "carol"}
    assert resp.json() == {"member": {"user": carol, "role": "viewer"}, "seq": 5, "boardId": "board-1"}
    assert await watcher.receive_json_from(timeout=3) == {
        "type": "member_added", "boardId": "board-1", "seq": 5, "member": {"user": carol, "role": "viewer"}, "actor": actor("alice"),
    }
    resp = await sync_to_async(owner.patch)("/api/boards/board-1/members/carol/", {"role": "editor"}, format="json")
    assert resp.status_code == 200 and resp.json()["member"]["role"] == "editor"
    frame = await watcher.receive_json_from(timeout=3)
    assert (frame["type"], frame["seq"], frame["member"]["role"]) == ("member_updated", 6, "editor")

    resp = await sync_to_async(owner.delete)("/api/boards/board-1/members/carol/")
    assert resp.status_code == 204
    assert await watcher.receive_json_from(timeout=3) == {
        "type": "member_removed", "boardId": "board-1", "seq": 7, "user": carol, "actor": actor("alice"),
    }


async def test_a_removed_member_of_a_private_board_is_evicted_at_once(connect, users):
    carol = await sync_to_async(client_for)(users["carol"])
    await sync_to_async(carol.post)("/api/boards/board-2/members/", {"username": "bob", "role": "editor"}, format="json")
    bob = await connect("bob")
    await join(bob, "board-2")
    resp = await sync_to_async(carol.delete)("/api/boards/board-2/members/bob/")
    assert resp.status_code == 204
    assert (await bob.receive_json_from(timeout=3))["type"] == "member_removed"
    evicted = await bob.receive_json_from(timeout=3)
    assert (evicted["code"], evicted["boardId"]) == ("forbidden", "board-2")


def test_a_board_always_keeps_an_owner(users):
    owner = client_for(users["alice"])
    before = board_state()
    resp = owner.patch("/api/boards/board-1/members/alice/", {"role": "editor"}, format="json")
    assert resp.status_code == 400 and "last owner" in resp.json()["detail"]
    assert owner.delete("/api/boards/board-1/members/alice/").status_code == 400
    assert board_state() == before
    # With a second owner, the first may step down.
    assert owner.patch("/api/boards/board-1/members/bob/", {"role": "owner"}, format="json").status_code == 200
    assert owner.patch("/api/boards/board-1/members/alice/", {"role": "editor"}, format="json").status_code == 200
    assert Membership.objects.get(user=users["alice"], board__slug="board-1").role == "editor"


def test_a_member_may_leave_but_not_promote_themselves(users):
    bob = client_for(users["bob"])
    assert bob.patch("/api/boards/board-1/members/bob/", {"role": "owner"}, format="json").status_code == 403
    assert bob.delete("/api/boards/board-1/members/alice/").status_code == 403
    assert bob.delete("/api/boards/board-1/members/bob/").status_code == 204
    assert not Membership.objects.filter(user=users["bob"], board__slug="board-1").exists()


def test_removing_a_member_unassigns_their_tasks_on_that_board(users):
    task = Task.objects.get(title="Write the README")
    assert client_for(users["alice"]).patch(f"/api/tasks/{task.pk}/", {"assignee": "bob"}, format="json").status_code == 200
    assert client_for(users["alice"]).delete("/api/boards/board-1/members/bob/").status_code == 204
    task.refresh_from_db()
    assert task.assignee is None


@pytest.mark.parametrize(
    "method, path, body, status",
    [
        ("post", "members/", {"username": "nobody", "role": "viewer"}, 400),
        ("post", "members/", {"username": "bob", "role": "viewer"}, 400),  # already a member
        ("post", "members/", {"username": "carol", "role": "admin"}, 400),
        ("post", "members/", {"role": "viewer"}, 400),
        ("patch", "members/bob/", {"role": "king"}, 400),
        ("patch", "members/carol/", {"role": "editor"}, 404),  # not a member
        ("delete", "members/nobody/", None, 404),
    ],
)
def test_bad_member_requests_are_refused_and_change_nothing(users, method, path, body, status):
    before = board_state()
    resp = getattr(client_for(users["alice"]), method)(f"/api/boards/board-1/{path}", body, format="json")
    assert resp.status_code == status, resp.content
    assert board_state() == before


def test_assignee_over_rest_must_be_a_member(users):
    task = Task.objects.get(title="Write the README")
    client = client_for(users["bob"])
    resp = client.patch(f"/api/tasks/{task.pk}/", {"assignee": "carol"}, format="json")
    assert resp.status_code == 400 and resp.json()["assignee"] == ["Not a member of this board."]
    resp = client.post("/api/tasks/", {"title": "Mine", "listId": "list-todo", "assignee": "bob"}, format="json")
    assert resp.status_code == 201 and resp.json()["assignee"] == {"id": users["bob"].pk, "name": "bob"}
    assert get_user_model().objects.get(username="bob").assigned_tasks.get().title == "Mine"
    assert List.objects.get(pk="list-todo").tasks.count() == 3
