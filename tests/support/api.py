"""Helpers for the REST API tests."""

from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from boards.models import Board, BoardEvent, List, Membership, Task

TASK_KEYS = {"id", "listId", "title", "description", "position", "version", "assignee"}


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
        sorted(Task.objects.values_list("pk", "list_id", "title", "description", "position", "version", "assignee_id")),
        sorted(List.objects.values_list("pk", "board_id", "name", "position")),
        sorted(Membership.objects.values_list("board_id", "user_id", "role")),
        sorted(Board.objects.values_list("slug", "name", "visibility")),
    )


class actor:
    """Equals the `actor` of a frame made by user `name` ({"id": their id, "name"}); None: no user."""

    def __init__(self, name):
        self.name = name

    def __eq__(self, other):
        if self.name is None:
            return other is None
        return isinstance(other, dict) and other.get("name") == self.name and isinstance(other.get("id"), int) and set(other) == {"id", "name"}

    def __repr__(self):
        return f"actor({self.name!r})"
