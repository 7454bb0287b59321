"""Database connections: async consumers must not leak them, and on
PostgreSQL they come from a per-process pool (boardsite/settings.py)."""

import json
import subprocess
import sys

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.db import connection

from tests.support.servers import BASE_DIR

from tests.support.wsclient import join, request

def backends():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def needs_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("counts PostgreSQL backends; runs in the DATABASE_URL=postgres… pass (make test-services, CI)")


@pytest.mark.django_db(transaction=True)
async def test_many_socket_changes_hold_no_extra_connections(connect):
    needs_postgresql()
    editors = [await connect("alice"), await connect("bob")]
    for comm in editors:
        await join(comm)
    before = await sync_to_async(backends)()
    for i in range(30):
        for comm in editors:
            ack = await request(comm, type="create_task", boardId="board-1", listId="list-todo", title=f"t{i}")
            assert ack["type"] == "ack"
    after = await sync_to_async(backends)()
    # database_sync_to_async hands its connection back around every call
    # (to the pool, or closed with DATABASE_POOL_SIZE=0): sixty changes must
    # not leave sixty connections open.
    assert after <= before + 1, (before, after)


@pytest.mark.django_db(transaction=True)
async def test_database_calls_reuse_pooled_connections():
    """Each database_sync_to_async call used to open a new PostgreSQL backend
    (CONN_MAX_AGE=0); with the pool, consecutive calls get the same few."""
    needs_postgresql()
    assert connection.settings_dict["OPTIONS"].get("pool"), "the pool is on by default on PostgreSQL"

    @database_sync_to_async
    def backend_pid():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            return cursor.fetchone()[0]

    pids = {await backend_pid() for _ in range(20)}
    assert len(pids) <= connection.settings_dict["OPTIONS"]["pool"]["max_size"], pids


def database_options(**env):
    """DATABASES["default"]["OPTIONS"] as settings.py builds it from `env`."""
    code = "import json; from boardsite import settings; print(json.dumps(settings.DATABASES['default'].get('OPTIONS', {})))"
    base = {"PATH": "/usr/bin:/bin", "DATABASE_URL": "postgres://app@db.invalid:5432/liveboard"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=BASE_DIR, env={**base, **env}, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


@pytest.mark.parametrize(
    "env, pool",
    [
        ({}, {"min_size": 1, "max_size": 4, "timeout": 10.0}),
        ({"DATABASE_POOL_SIZE": "8", "DATABASE_POOL_TIMEOUT": "2.5"}, {"min_size": 1, "max_size": 8, "timeout": 2.5}),
        ({"DATABASE_POOL_SIZE": "0"}, None),
        ({"CONN_MAX_AGE": "60"}, None),  # persistent connections instead (Django refuses both)
        ({"DATABASE_URL": "sqlite:////tmp/liveboard-settings-test.sqlite3"}, None),
    ],
)
def test_pool_settings(env, pool):
    assert database_options(**env).get("pool") == pool
