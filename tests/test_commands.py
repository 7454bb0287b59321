"""Management commands: `demo` (SPEC §9) and `prune_events` (SPEC §3, §10)."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from boards.models import Board, BoardEvent, List, Membership, Task

pytestmark = pytest.mark.django_db


def counts():
    return {
        "users": get_user_model().objects.count(),
        "boards": Board.objects.count(),
        "lists": List.objects.count(),
        "tasks": Task.objects.count(),
        "memberships": Membership.objects.count(),
        "events": BoardEvent.objects.count(),
        "seqs": dict(Board.objects.values_list("slug", "last_seq")),
    }


def run_demo():
    out = StringIO()
    call_command("demo", stdout=out)
    return out.getvalue()


def test_demo_creates_the_spec_data():
    assert "Demo data ready" in run_demo()
    User = get_user_model()
    assert sorted(User.objects.values_list("username", flat=True)) == ["admin", "alice", "bob", "carol"]
    for name in ("alice", "bob", "carol"):
        assert User.objects.get(username=name).check_password("liveboard-demo")
        assert Client().login(username=name, password="liveboard-demo")
    assert not Client().login(username="alice", password="wrong")

    b1 = Board.objects.get(slug="board-1")
    assert b1.visibility == Board.PUBLIC
    assert dict(b1.memberships.values_list("user__username", "role")) == {"alice": "owner", "bob": "editor"}
    assert list(b1.lists.order_by("position").values_list("id", flat=True)) == ["list-todo", "list-doing", "list-done"]

    b2 = Board.objects.get(slug="board-2")
    assert b2.visibility == Board.PRIVATE
    assert dict(b2.memberships.values_list("user__username", "role")) == {"carol": "owner"}
    assert list(b2.lists.order_by("position").values_list("id", flat=True)) == ["b2-todo", "b2-done"]

    assert Task.objects.filter(list__board=b1).count() >= 1
    # Every demo task went through Task.save(): events recorded, seq matches the log.
    for board in (b1, b2):
        board.refresh_from_db()
        assert board.last_seq == board.events.count() == Task.objects.filter(list__board=board).count()
        assert list(board.events.values_list("seq", flat=True)) == list(range(1, board.last_seq + 1))
    # Positions are gap-free in every list.
    for lst in List.objects.all():
        assert list(lst.tasks.order_by("position").values_list("position", flat=True)) == list(range(lst.tasks.count()))


def test_demo_creates_a_staff_superuser_who_can_open_the_admin():
    run_demo()
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_staff and admin.is_superuser
    client = Client()
    assert client.login(username="admin", password="liveboard-demo")
    page = client.get("/admin/boards/task/")
    assert page.status_code == 200 and b"Write the README" in page.content


def test_demo_is_idempotent():
    run_demo()
    first = counts()
    assert first["users"] == 4 and first["boards"] == 2 and first["lists"] == 5 and first["memberships"] == 3
    run_demo()
    assert counts() == first
    assert Client().login(username="bob", password="liveboard-demo")


def test_demo_does_not_undo_later_changes():
    run_demo()
    bob = get_user_model().objects.get(username="bob")
    bob.set_password("changed-by-bob")
    bob.save()
    task = Task.objects.get(title="Write the README")
    task.list_id = "list-done"
    task.save()
    before = counts()
    run_demo()
    assert counts() == before
    assert Task.objects.get(title="Write the README").list_id == "list-done"
    assert Client().login(username="bob", password="changed-by-bob")


def test_prune_events_keeps_the_newest_per_board():
    run_demo()
    seqs = dict(Board.objects.values_list("slug", "last_seq"))
    assert seqs == {"board-1": 4, "board-2": 1}
    out = StringIO()
    call_command("prune_events", "--keep", "2", stdout=out)
    assert "Pruned 2 events" in out.getvalue()
    assert list(BoardEvent.objects.filter(board__slug="board-1").values_list("seq", flat=True)) == [3, 4]
    assert list(BoardEvent.objects.filter(board__slug="board-2").values_list("seq", flat=True)) == [1]
    assert dict(Board.objects.values_list("slug", "last_seq")) == seqs  # last_seq untouched

    api = APIClient()
    resp = api.get("/api/boards/board-1/events?since=0")
    assert resp.status_code == 409
    assert resp.json()["type"] == "resync_required"
    resp = api.get("/api/boards/board-1/events?since=1")
    assert resp.status_code == 409
    resp = api.get("/api/boards/board-1/events?since=2")  # last_seq - 2
    assert resp.status_code == 200
    assert [e["seq"] for e in resp.json()["events"]] == [3, 4]
    assert resp.json()["seq"] == 4

    # New events continue the sequence after a prune.
    Task.objects.create(list_id="list-todo", title="after prune")
    assert [e["seq"] for e in api.get("/api/boards/board-1/events?since=2").json()["events"]] == [3, 4, 5]

    # Running again with the same keep removes only what is now too old.
    call_command("prune_events", "--keep", "2", stdout=StringIO())
    assert list(BoardEvent.objects.filter(board__slug="board-1").values_list("seq", flat=True)) == [4, 5]


def test_prune_events_uses_the_retention_setting(settings):
    run_demo()
    settings.LIVEBOARD_EVENT_RETENTION = 1
    call_command("prune_events", stdout=StringIO())
    assert list(BoardEvent.objects.order_by("board__slug", "seq").values_list("board__slug", "seq")) == [
        ("board-1", 4),
        ("board-2", 1),
    ]
    call_command("prune_events", "--keep", "0", stdout=StringIO())
    assert BoardEvent.objects.count() == 0
    assert Board.objects.get(slug="board-1").last_seq == 4
    assert APIClient().get("/api/boards/board-1/events?since=4").json() == {"events": [], "seq": 4}
