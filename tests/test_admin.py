"""The Django admin for a newcomer (SPEC §12): `admin` / `liveboard-demo`
from the demo opens it, and columns and members changed there are board
events that reach the room live, with the admin as their actor."""

import pytest
from asgiref.sync import sync_to_async
from django.test import Client

from boards.models import List, Membership, Task
from tests.support.api import actor
from tests.support.wsclient import join

pytestmark = pytest.mark.django_db(transaction=True)


def demo_admin():
    client = Client()
    assert client.login(username="admin", password="liveboard-demo")
    return client


def admin_add(client, model, **fields):
    """Post the admin's add form for `model` with `fields` and empty inlines."""
    url = f"/admin/boards/{model}/add/"
    page = client.get(url)
    assert page.status_code == 200
    data = {}
    form = page.context["adminform"].form
    for name in form.fields:
        value = form[name].value()
        data[name] = "" if value is None else value
    for inline in page.context["inline_admin_formsets"]:
        prefix = inline.formset.prefix
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    data.update(fields, _save="Save")
    return client.post(url, data)


def test_the_demo_admin_opens_every_model_a_team_manages(users):
    client = demo_admin()
    for path in ("boards/board", "boards/list", "boards/task", "boards/membership", "auth/user"):
        assert client.get(f"/admin/{path}/").status_code == 200, path
    assert client.get("/admin/boards/list/add/").status_code == 200


async def test_a_column_added_in_the_admin_appears_on_open_boards(connect, users):
    watcher = await connect("bob")
    await join(watcher)

    def add():
        board = List.objects.get(pk="list-todo").board_id
        return admin_add(demo_admin(), "list", board=board, name="From the admin").status_code

    assert await sync_to_async(add)() == 302
    frame = await watcher.receive_json_from(timeout=3)
    made = await sync_to_async(List.objects.get)(name="From the admin")
    assert frame == {
        "type": "list_created", "boardId": "board-1", "seq": 5,
        "list": {"id": made.pk, "name": "From the admin", "position": 3}, "actor": actor("admin"),
    }


async def test_a_member_added_in_the_admin_is_member_added(connect, users):
    watcher = await connect("alice")
    await join(watcher)

    def add():
        board = List.objects.get(pk="list-todo").board_id
        return admin_add(demo_admin(), "membership", board=board, user=users["carol"].pk, role="editor").status_code

    assert await sync_to_async(add)() == 302
    frame = await watcher.receive_json_from(timeout=3)
    assert (frame["type"], frame["member"], frame["actor"]) == (
        "member_added", {"user": {"id": users["carol"].pk, "name": "carol"}, "role": "editor"}, actor("admin"),
    )


def test_the_admin_will_not_delete_a_column_that_has_tasks(users):
    client = demo_admin()
    resp = client.post("/admin/boards/list/list-todo/delete/", {"post": "yes"})
    assert resp.status_code == 403
    assert Task.objects.filter(list_id="list-todo").count() == 2
    assert Membership.objects.count() == 3
