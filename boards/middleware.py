"""
ASGI middleware in front of the WebSocket consumer (SPEC §7).

OriginCheck refuses sockets opened from foreign pages (cross-site WebSocket
hijacking) with close code 4403. A socket without an Origin header is not a
browser: it is let in, but its cookies are ignored, so it is anonymous
unless it presents a ticket (`?ticket=…`, checked by TicketAuth; a bad
ticket closes with 4401).
"""

from urllib.parse import parse_qs, urlsplit

from channels.db import database_sync_to_async
from django.conf import settings
from django.http.request import validate_host

from . import tickets


async def _refuse(receive, send, code):
    """Complete the handshake, then close with `code` so the client sees it."""
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.close", "code": code})


def _header(scope, name):
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


def origin_allowed(origin):
    host = urlsplit(origin).hostname
    if not host:
        return False
    allowed = settings.ALLOWED_HOSTS or (["localhost", "127.0.0.1", "[::1]"] if settings.DEBUG else [])
    return validate_host(host, allowed)


class OriginCheck:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket":
            origin = _header(scope, b"origin")
            if origin is None:
                scope = dict(scope, headers=[(k, v) for k, v in scope["headers"] if k != b"cookie"])
            elif not origin_allowed(origin):
                await _refuse(receive, send, 4403)
                return
        return await self.app(scope, receive, send)


class TicketAuth:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket":
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
            if "ticket" in query:
                user = await database_sync_to_async(tickets.redeem)(query["ticket"][0])
                if user is None:
                    await _refuse(receive, send, 4401)
                    return
                scope = dict(scope, user=user)
        return await self.app(scope, receive, send)
