"""GET /api/boards/<id>/activity (SPEC §12): the event log as sentences,
newest first, paged with `before`, for whoever may view the board."""

import pytest
from rest_framework.test import APIClient

from boards.models import Task
from tests.support.api import client_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_activity_says_who_did_what_newest_first(users):
    bob, alice = client_for(users["bob"]), client_for(users["alice"])
    task = Task.objects.get(title="Write the README")
    bob.patch(f"/api/tasks/{task.pk}/", {"listId": "list-done", "position": 0}, format="json")
    bob.patch(f"/api/tasks/{task.pk}/", {"assignee": "alice"}, format="json")
    made = alice.post("/api/lists/", {"boardId": "board-1", "name": "Review"}, format="json").json()
    alice.patch(f"/api/lists/{made['id']}/", {"name": "QA"}, format="json")
    alice.post("/api/boards/board-1/members/", {"username": "carol", "role": "viewer"}, format="json")
    bob.delete(f"/api/tasks/{task.pk}/")

    body = APIClient().get("/api/boards/board-1/activity").json()
    assert body["more"] is False
    assert [entry["text"] for entry in body["activity"]] == [
        "bob deleted \u201cWrite the README\u201d",
        "alice added carol as a viewer",
        "alice renamed the column \u201cReview\u201d to \u201cQA\u201d",
        "alice added the column \u201cReview\u201d",
        "bob assigned \u201cWrite the README\u201d to alice",
        "bob moved \u201cWrite the README\u201d to Done",
        "Someone added \u201cRun manage.py demo\u201d to Done",  # the demo: made by no user
        "Someone added \u201cDrag a card between columns\u201d to Doing",
        "Someone added \u201cTry it with wscat\u201d to To do",
        "Someone added \u201cWrite the README\u201d to To do",
    ]
    first = body["activity"][0]
    assert set(first) == {"seq", "type", "actor", "at", "text"}
    assert (first["seq"], first["type"], first["actor"]["name"]) == (10, "task_deleted", "bob")
    assert first["at"].endswith("Z")


def test_activity_pages_back_with_before(users):
    client = APIClient()
    page = client.get("/api/boards/board-1/activity?limit=3").json()
    assert [e["seq"] for e in page["activity"]] == [4, 3, 2] and page["more"] is True
    page = client.get("/api/boards/board-1/activity?limit=3&before=2").json()
    assert [e["seq"] for e in page["activity"]] == [1] and page["more"] is False


def test_activity_is_for_those_who_may_view_and_bad_params_are_400(users):
    assert APIClient().get("/api/boards/board-2/activity").status_code in (401, 403)
    assert client_for(users["carol"]).get("/api/boards/board-2/activity").status_code == 200
    assert APIClient().get("/api/boards/board-404/activity").status_code == 404
    for query in ("limit=0", "limit=abc", "before=-1", "limit=201"):
        assert APIClient().get(f"/api/boards/board-1/activity?{query}").status_code == 400, query
