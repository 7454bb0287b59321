"""
ASGI entry point: `daphne boardsite.asgi:application`.

http      → /boards/<id>/events (SSE) and /api/boards/<id>/events (long polling):
            Channels consumers (boards/realtime/sse.py, longpoll.py); everything else → Django
            (pages, REST API, admin, static files via WhiteNoise), all
            synchronous views, in one thread hop each (boards/tuning/httphandler.py)
websocket → origin check → session auth → ticket auth → /ws/ consumer
"""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "boardsite.settings")
django.setup(set_prefix=False)  # as get_asgi_application(), before importing models

from boards.tuning.httphandler import OneHopASGIHandler  # noqa: E402

django_asgi_app = OneHopASGIHandler()  # Django's ASGIHandler, one thread hop per request

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from boards.realtime.middleware import OriginCheck, TicketAuth  # noqa: E402
from boards.realtime.routing import http_urlpatterns, websocket_urlpatterns  # noqa: E402
from django.urls import re_path  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": URLRouter([*http_urlpatterns, re_path(r"", django_asgi_app)]),
        "websocket": OriginCheck(AuthMiddlewareStack(TicketAuth(URLRouter(websocket_urlpatterns)))),
    }
)
