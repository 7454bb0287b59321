from channels.auth import AuthMiddlewareStack
from django.urls import path, re_path

from boards.realtime.consumer import BoardConsumer
from boards.realtime.longpoll import LongPollConsumer
from boards.realtime.sse import BoardEventStream

websocket_urlpatterns = [
    path("ws/", BoardConsumer.as_asgi()),
]


# HTTP paths served by Channels consumers (boards/realtime/sse.py, longpoll.py), ahead of Django
# in boardsite.asgi. The board page /boards/<id>/ (trailing slash) stays Django's.
http_urlpatterns = [
    # Server-Sent Events (SPEC §6).
    re_path(r"^boards/(?P<slug>[^/]+)/events/?$", AuthMiddlewareStack(BoardEventStream.as_asgi())),
    # Polling and long polling; the same URL in Django's URLconf answers without `wait`.
    re_path(r"^api/boards/(?P<slug>[^/]+)/events$", AuthMiddlewareStack(LongPollConsumer.as_asgi())),
]
