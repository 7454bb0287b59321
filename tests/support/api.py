"""Helpers for the REST API tests."""

from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from boards.models import Board, BoardEvent, Task

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
