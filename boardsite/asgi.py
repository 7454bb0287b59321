"""
ASGI entry point: `daphne boardsite.asgi:application`.

http      → /boards/<id>/events (SSE) and /api/boards/<id>/events (long polling):
            Channels consumers (boards/streams.py); everything else → Django
            (pages, REST API, admin, static files via WhiteNoise)
websocket → origin check → session auth → ticket auth → /ws/ consumer
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "boardsite.settings")
django_asgi_app = get_asgi_application()  # sets up Django before importing models

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from boards.middleware import OriginCheck, TicketAuth  # noqa: E402
from boards.routing import http_urlpatterns, websocket_urlpatterns  # noqa: E402
from django.urls import re_path  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": URLRouter([*http_urlpatterns, re_path(r"", django_asgi_app)]),
        "websocket": OriginCheck(AuthMiddlewareStack(TicketAuth(URLRouter(websocket_urlpatterns)))),
    }
)
