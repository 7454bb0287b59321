"""The REST side of SPEC §11: announcements (staff send, anyone reads the
recent ones), your notifications and marking them read, direct messages."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from boards import eventlog
from boards.models import Announcement, Notification, Task
from tests.support.api import actor, client_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def staff(users):
    return get_user_model().objects.get(username="admin")


@pytest.fixture
def fresh(users):
    Notification.objects.all().delete()  # the demo's own memberships notified its users
    return users


def test_staff_send_announcements_and_others_may_not(staff, users):
    resp = client_for(staff).post("/api/announcements/", {"text": "Maintenance at 6", "level": "critical"}, format="json")
    assert resp.status_code == 201
    ann = Announcement.objects.get()
    assert resp.json() == {"type": "announcement", "id": ann.pk, "text": "Maintenance at 6", "level": "critical",
                           "sentAt": resp.json()["sentAt"]}
    assert ann.created_by == staff
    assert client_for(users["alice"]).post("/api/announcements/", {"text": "x"}, format="json").status_code == 403
    assert APIClient().post("/api/announcements/", {"text": "x"}, format="json").status_code == 401
    assert Announcement.objects.count() == 1


@pytest.mark.parametrize("body", [{"text": ""}, {"text": "x" * 501}, {"text": 5}, {"text": "hi", "level": "loud"},
                                  {"text": "hi", "level": 1}, {}, {"text": "hi", "extra": True}])
def test_bad_announcements_are_400_and_not_stored(staff, body):
    assert client_for(staff).post("/api/announcements/", body, format="json").status_code == 400
    assert Announcement.objects.count() == 0


def test_the_announcements_of_the_last_ttl_are_listed_newest_first_to_anyone(staff, settings):
    settings.LIVEBOARD_ANNOUNCEMENT_TTL = 600
    old = Announcement.objects.create(text="old")
    Announcement.objects.filter(pk=old.pk).update(created=timezone.now() - timedelta(seconds=601))
    first = Announcement.objects.create(text="first")
    second = Announcement.objects.create(text="second", level="warning")
    body = APIClient().get("/api/announcements/").json()
    assert [(a["id"], a["text"], a["level"]) for a in body["announcements"]] == [
        (second.pk, "second", "warning"), (first.pk, "first", "info")]


def assign_three_to_bob(users):
    with eventlog.acting_user(users["alice"]):
        for title in ("one", "two", "three"):
            Task.objects.create(list_id="list-todo", title=title, assignee=users["bob"])
    return list(Notification.objects.filter(user=users["bob"]).order_by("-id").values_list("pk", flat=True))


def test_notifications_list_yours_newest_first_with_the_unread_count(fresh):
    ids = assign_three_to_bob(fresh)
    bob = client_for(fresh["bob"])
    body = bob.get("/api/notifications/").json()
    assert [n["id"] for n in body["notifications"]] == ids and body["unread"] == 3
    note = body["notifications"][0]
    assert set(note) == {"id", "kind", "text", "boardId", "taskId", "actor", "createdAt", "read"}
    assert (note["kind"], note["boardId"], note["actor"], note["read"]) == ("assigned", "board-1", actor("alice"), False)
    assert client_for(fresh["alice"]).get("/api/notifications/").json() == {"notifications": [], "unread": 0}
    assert APIClient().get("/api/notifications/").status_code == 401


def test_marking_read_by_ids_or_all(fresh):
    ids = assign_three_to_bob(fresh)
    bob = client_for(fresh["bob"])
    assert bob.post("/api/notifications/read/", {"ids": ids[:1]}, format="json").json() == {"unread": 2}
    unread = bob.get("/api/notifications/?unread=1").json()
    assert [n["id"] for n in unread["notifications"]] == ids[1:] and unread["unread"] == 2
    # Someone else's ids change nothing.
    assert client_for(fresh["alice"]).post("/api/notifications/read/", {"ids": ids}, format="json").json() == {"unread": 0}
    assert bob.post("/api/notifications/read/", {"all": True}, format="json").json() == {"unread": 0}
    assert Notification.objects.filter(read=False).count() == 0


@pytest.mark.parametrize("body", [{}, {"ids": "1"}, {"ids": [0]}, {"all": False}, {"ids": [1], "all": True}, {"ids": ["1"]}])
def test_bad_read_requests_are_400(fresh, body):
    assign_three_to_bob(fresh)
    assert client_for(fresh["bob"]).post("/api/notifications/read/", body, format="json").status_code == 400
    assert Notification.objects.filter(read=False).count() == 3


def test_read_needs_a_login_and_csrf_for_sessions(fresh):
    assert APIClient().post("/api/notifications/read/", {"all": True}, format="json").status_code == 401
    session = Client(enforce_csrf_checks=True)
    session.force_login(fresh["bob"])
    assert session.post("/api/notifications/read/", {"all": True}, content_type="application/json").status_code == 403


def test_a_direct_message_over_rest_is_201_and_a_notification(fresh):
    resp = client_for(fresh["alice"]).post("/api/messages/", {"to": "bob", "text": "hello"}, format="json")
    assert resp.status_code == 201
    note = Notification.objects.get(pk=resp.json()["notificationId"])
    assert (note.user, note.kind, note.text, note.actor) == (fresh["bob"], "message", "hello", fresh["alice"])


@pytest.mark.parametrize("sender,body,status", [
    ("alice", {"to": "carol", "text": "hi"}, 403),
    ("alice", {"to": "nobody", "text": "hi"}, 404),
    ("alice", {"to": "alice", "text": "hi"}, 400),
    ("alice", {"to": "bob", "text": ""}, 400),
    ("alice", {"to": "bob", "text": "x" * 2001}, 400),
    ("alice", {"to": "bob"}, 400),
    (None, {"to": "bob", "text": "hi"}, 401),
])
def test_bad_direct_messages_are_refused_and_nothing_is_stored(fresh, sender, body, status):
    client = client_for(fresh[sender]) if sender else APIClient()
    assert client.post("/api/messages/", body, format="json").status_code == status
    assert Notification.objects.count() == 0
