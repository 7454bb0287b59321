"""Async consumers must not leak database connections (PostgreSQL only)."""

import pytest
from asgiref.sync import sync_to_async
from django.db import connection

from tests.wsclient import join, request

pytestmark = pytest.mark.django_db(transaction=True)


def backends():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


async def test_many_socket_changes_hold_no_extra_connections(connect):
    if connection.vendor != "postgresql":
        pytest.skip("counts PostgreSQL backends; runs in the DATABASE_URL=postgres… pass (make test-services, CI)")
    editors = [await connect("alice"), await connect("bob")]
    for comm in editors:
        await join(comm)
    before = await sync_to_async(backends)()
    for i in range(30):
        for comm in editors:
            ack = await request(comm, type="create_task", boardId="board-1", listId="list-todo", title=f"t{i}")
            assert ack["type"] == "ack"
    after = await sync_to_async(backends)()
    # database_sync_to_async closes stale connections around every call and
    # CONN_MAX_AGE is 0: sixty changes must not leave sixty connections open.
    assert after <= before + 1, (before, after)
