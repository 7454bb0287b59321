"""
GET /healthz and GET /readyz (SPEC §13).

`/healthz` says the process serves HTTP at all: it touches neither the
database nor Redis, so a load balancer's liveness probe does not restart a
process for an outage it cannot fix. `/readyz` says whether it can serve
requests now: one `SELECT 1` on the default database and, in scaled mode, a
PING to Redis, each bounded by a short timeout; 503 with the failing
check's error otherwise. Neither reads the session or the CSRF token, so
neither sets a cookie, and neither writes anything.
"""

import redis
from django.conf import settings
from django.db import connections
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

CHECK_TIMEOUT = 2.0  # seconds, per check


@require_GET
@never_cache
def healthz(request):
    return JsonResponse({"status": "ok"})


def _database():
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _redis():
    host = settings.LIVEBOARD_REDIS_HOST
    if "sentinels" in host:
        from redis.sentinel import Sentinel

        sentinel = Sentinel(host["sentinels"], socket_timeout=CHECK_TIMEOUT)
        client = sentinel.master_for(host["master_name"], socket_timeout=CHECK_TIMEOUT)
    else:
        client = redis.Redis.from_url(host["address"], socket_timeout=CHECK_TIMEOUT, socket_connect_timeout=CHECK_TIMEOUT)
    try:
        client.ping()
    finally:
        client.close()


def _run(check):
    try:
        check()
    except Exception as exc:  # the check's whole point is to report any failure, not raise it
        return f"{type(exc).__name__}: {exc}"[:500]
    return "ok"


@require_GET
@never_cache
def readyz(request):
    checks = {"database": _run(_database)}
    checks["redis"] = _run(_redis) if settings.LIVEBOARD_REDIS_HOST else "not used"
    ready = all(value in ("ok", "not used") for value in checks.values())
    return JsonResponse({"status": "ready" if ready else "unavailable", "checks": checks}, status=200 if ready else 503)
