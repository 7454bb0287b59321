"""
Shared fixtures: demo data, logged-in WebSocket clients on the real ASGI
application (origin check, session auth, consumer), and a clean channel
layer and presence store for every test.
"""

import copy
import os

import pytest
from asgiref.sync import sync_to_async
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connections
from django.test import Client

from boards.realtime import presence

ORIGIN = (b"origin", b"http://localhost:8000")


def service_missing(name, reason):
    """Skip a test whose service is absent — but never under CI, where it must run."""
    if os.environ.get("CI"):
        pytest.fail(f"{name} is required under CI: {reason}")
    pytest.skip(f"{name} not available: {reason}")


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


REDIS_DEFAULT = "redis://127.0.0.1:6379/0"


@pytest.fixture
def redis_url():
    """A reachable Redis: REDIS_URL, else the local default. Both CI passes have one."""
    import redis

    url = os.environ.get("REDIS_URL") or REDIS_DEFAULT
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        service_missing("Redis", f"{url}: {exc}")
    return url


@pytest.fixture
async def redis_mode(redis_url, settings):
    """Run this test process in scaled mode (Redis layer + presence), even in
    the embedded pass: for tests about several processes sharing one room."""
    prefix = f"lbtest{os.getpid()}"
    settings.REDIS_URL = redis_url
    settings.LIVEBOARD_REDIS_HOST = {"address": redis_url}
    settings.LIVEBOARD_REDIS_PREFIX = prefix
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "boards.tuning.layers.LiveboardRedisPubSubChannelLayer",
            "CONFIG": {"hosts": [settings.LIVEBOARD_REDIS_HOST], "prefix": prefix},
        }
    }
    channel_layers.backends.clear()
    await presence.reset_presence()
    yield redis_url
    for layer in list(channel_layers.backends.values()):
        await layer.flush()
    channel_layers.backends.clear()
    await presence.reset_presence()


@pytest.fixture(autouse=True)
def isolated_redis_prefix(settings):
    """Test runs sharing one Redis (parallel runs, a dev server) must not hear each other."""
    if not settings.LIVEBOARD_REDIS_HOST:
        return
    prefix = f"lbtest{os.getpid()}"
    settings.LIVEBOARD_REDIS_PREFIX = prefix
    layers = copy.deepcopy(settings.CHANNEL_LAYERS)
    layers["default"]["CONFIG"]["prefix"] = prefix
    settings.CHANNEL_LAYERS = layers


@pytest.fixture(autouse=True)
async def clean_realtime_state():
    """Each test starts with an empty channel layer and no one present."""
    channel_layers.backends.clear()
    await presence.get_presence().clear()  # leftovers of an earlier run (Redis)
    await presence.reset_presence()
    yield
    for layer in list(channel_layers.backends.values()):
        if hasattr(layer, "flush"):
            await layer.flush()
    channel_layers.backends.clear()
    await presence.reset_presence()
    # sync_to_async runs ORM calls on asgiref's worker thread; close what it
    # opened so the test database can be dropped at the end of the run.
    await sync_to_async(connections.close_all)()


@pytest.fixture
def demo(transactional_db):
    call_command("demo", verbosity=0)


@pytest.fixture
def users(demo):
    User = get_user_model()
    return {u.username: u for u in User.objects.filter(username__in=["alice", "bob", "carol"])}


@pytest.fixture
def production_passwords(demo, settings):
    """Demo passwords hashed the way a separately started server checks them.

    The test run hashes with MD5 for speed; real servers (tests/support/servers.py)
    run the production hashers and would refuse those hashes.
    """
    from django.contrib.auth.hashers import make_password

    settings.PASSWORD_HASHERS = [*settings.PASSWORD_HASHERS, "django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    get_user_model().objects.update(password=make_password("liveboard-demo", hasher="pbkdf2_sha256"))


def session_cookie(user):
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


@pytest.fixture
async def connect(demo):
    """`await connect("alice")` → a connected communicator (None = anonymous)."""
    from boardsite.asgi import application

    opened = []

    async def _connect(username=None, headers=None, path="/ws/"):
        if headers is None:
            headers = [ORIGIN]
            if username:
                user = await sync_to_async(get_user_model().objects.get)(username=username)
                headers.append((b"cookie", await sync_to_async(session_cookie)(user)))
        comm = WebsocketCommunicator(application, path, headers=headers)
        connected, code = await comm.connect()
        assert connected, f"connection refused with {code}"
        opened.append(comm)
        return comm

    yield _connect
    for comm in opened:
        try:
            await comm.disconnect()
        except Exception:
            pass
