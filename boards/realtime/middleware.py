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
from django.http.request import split_domain_port, validate_host

from boards import tickets


async def _refuse(receive, send, code):
    """Complete the handshake, then close with `code` so the client sees it."""
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.close", "code": code})


def header(scope, name):
    """The first value of header `name` (lower-case bytes) in an ASGI scope."""
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


def allowed_hosts():
    """ALLOWED_HOSTS as Django applies it (DEBUG with none set means local only)."""
    if settings.ALLOWED_HOSTS:
        return settings.ALLOWED_HOSTS
    return [".localhost", "127.0.0.1", "[::1]"] if settings.DEBUG else []


def origin_allowed(origin):
    host = urlsplit(origin).hostname
    return bool(host) and validate_host(host, allowed_hosts())


def host_allowed(scope):
    """Django's ALLOWED_HOSTS check, for consumers that do not pass through Django."""
    host = header(scope, b"host")
    if host is None:
        return True  # HTTP/1.0 without Host: Django falls back to SERVER_NAME too
    domain, _ = split_domain_port(host)
    return bool(domain) and validate_host(domain, allowed_hosts())


class OriginCheck:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket":
            origin = header(scope, b"origin")
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
