"""
Two small, documented adjustments to daphne, applied once from
BoardsConfig.ready() (so under `daphne boardsite.asgi:application` and
`manage.py runserver` alike). Both are no-ops where daphne is not installed.

1. Protocol close codes. SPEC §4 closes a socket with 1009 (frame too big)
   and 1008 (policy violation: flooding). daphne passes the application's
   code to autobahn's public `sendClose()`, which only accepts 1000 and
   3000-4999 — so `close(1008)` raised inside the consumer, the app crashed,
   the client saw 1011 and the consumer's `disconnect()` (presence cleanup,
   user_left to the room) never ran. RFC 6455 §7.4.1 lets an endpoint send
   1008/1009/1011 itself; autobahn's `sendCloseFrame()` (what its own
   protocol errors use) sends them. We route exactly those codes there and
   leave every other code to daphne's own path.

2. A close frame, not a dropped socket, on transport errors. A message over
   daphne's size cap (DAPHNE_WEBSOCKET_MAX_MESSAGE_SIZE / the
   `--websocket-max-message-size` flag), or invalid UTF-8 in a text frame,
   makes autobahn fail the connection; by default it drops the TCP socket
   (the client sees 1006). With `failByDrop` off it sends the RFC close
   code first — 1009 for the oversized message, as SPEC §4 says.

3. Secrets out of the access log. daphne's access log (`daphne -v1` or
   `--access-log`) prints the HTTP request line with its query string. Our
   WebSocket tickets travel as `?ticket=…` — WebSocket lines carry only the
   path, but a ticket (or token) pasted into an HTTP URL would be written
   out in clear. The access-log writer redacts them with the same filter as
   the Python logging handlers (boards.logfilters).
"""

import logging

from boards.logfilters import redact

logger = logging.getLogger(__name__)

# Close codes an endpoint may send itself (RFC 6455 §7.4.1) that autobahn's
# sendClose() refuses from applications.
PROTOCOL_CLOSE_CODES = frozenset({1001, 1008, 1009, 1011})

_applied = False


def apply():
    global _applied
    if _applied:
        return
    try:
        from daphne import access, ws_protocol
    except ImportError:  # pragma: no cover - daphne is a runtime dependency
        return
    _applied = True

    protocol = ws_protocol.WebSocketProtocol
    original_server_close = protocol.serverClose

    def serverClose(self, code=None):
        if code in PROTOCOL_CLOSE_CODES:
            self.sendCloseFrame(code=code, isReply=False)
        else:
            original_server_close(self, code)

    serverClose.__doc__ = original_server_close.__doc__
    serverClose.liveboard_patched = True
    protocol.serverClose = serverClose

    factory = ws_protocol.WebSocketFactory
    original_factory_init = factory.__init__

    def __init__(self, *args, **kwargs):
        original_factory_init(self, *args, **kwargs)
        self.setProtocolOptions(failByDrop=False)

    __init__.liveboard_patched = True
    factory.__init__ = __init__

    generator = access.AccessLogGenerator
    original_write_entry = generator.write_entry

    def write_entry(self, host, date, request, *args, **kwargs):
        return original_write_entry(self, host, date, redact(request), *args, **kwargs)

    write_entry.liveboard_patched = True
    generator.write_entry = write_entry
