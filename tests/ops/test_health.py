"""GET /healthz and /readyz (SPEC §13): no login, no cookie, no writes; 503 when a dependency is down."""

import socket

import pytest
from django.test import Client

from boards.models import BoardEvent, Task

pytestmark = pytest.mark.django_db(transaction=True)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_healthz_answers_ok_without_a_login_or_a_cookie():
    response = Client().get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert not response.cookies and "no-cache" in response["Cache-Control"]


def test_readyz_checks_the_database_and_redis_when_it_is_used(settings):
    before = (Task.objects.count(), BoardEvent.objects.count())
    response = Client().get("/readyz")
    assert response.status_code == 200, response.content
    expected_redis = "ok" if settings.LIVEBOARD_REDIS_HOST else "not used"
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "redis": expected_redis}}
    assert not response.cookies and (Task.objects.count(), BoardEvent.objects.count()) == before


def test_readyz_is_503_with_the_error_when_redis_cannot_be_reached(settings):
    settings.LIVEBOARD_REDIS_HOST = {"address": f"redis://127.0.0.1:{_free_port()}/0"}  # nothing listens there
    response = Client().get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable" and body["checks"]["database"] == "ok"
    assert body["checks"]["redis"].startswith("ConnectionError")


def test_health_endpoints_refuse_writes():
    assert Client().post("/healthz").status_code == 405
    assert Client().post("/readyz").status_code == 405
