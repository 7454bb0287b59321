"""
Server tuning: every measured patch of third-party internals, in one place.

Everything here is what stock Channels, daphne and Django do not do, made
because a benchmark showed the cost (BENCHMARKS.md, "What changed in the
server, and what each change was worth"). The rest of Liveboard — the
domain at the top of boards/, the delivery in boards/realtime/ — is code
you would write with stock Channels; remove this package's patches (their
off switches below) and it still works, only slower.

`apply_all()` runs once, from BoardsConfig.ready(), so under
`daphne boardsite.asgi:application`, `manage.py runserver` and management
commands alike. A patch that cannot apply to the installed version is
skipped and recorded; the `liveboard.W001`–`W002` system checks
(boards/tuning/checks.py) say so at start-up.

| module | what it changes | off switch (settings / env) | reaches into (pinned in requirements.txt) | BENCHMARKS.md | guarded by |
|---|---|---|---|---|---|
| `daphne_compat` | close codes 1008/1009 reach the client; a close frame, not a dropped socket, on oversized/invalid frames; secrets redacted in daphne's access log | — (correctness, always on) | daphne `WebSocketProtocol.serverClose`, `WebSocketFactory`, `AccessLogGenerator`; autobahn `sendCloseFrame` | — | tests/tuning/test_daphne.py, tests/test_security.py |
| `daphne_speed` | Twisted TCP writes sent at once when nothing is queued, batched to the end of the loop turn; autobahn's per-frame debug formatting dropped; a broadcast's frame bytes built once | `LIVEBOARD_TWISTED_WRITE_THROUGH=0`, `LIVEBOARD_WRITE_BATCH=0` | Twisted `tcp.Connection.write`; daphne/autobahn `sendData`, `serverSend` | "Twisted write-through", "write batching", "frame once" rows | tests/tuning/test_daphne.py, tests/tuning/test_fastconsumer.py |
| `fastconsumer` | one long-lived task per source instead of a task + `asyncio.wait()` per message; direct dispatch during `group_send`; WebSocket frames skip channels' session wrapper; a plain-function text send under daphne | `LIVEBOARD_DIRECT_DISPATCH=0` (direct dispatch) | channels `AsyncConsumer.__call__`, `InstanceSessionWrapper`; daphne `Server.handle_reply` | "consumer loop", "direct dispatch" rows | tests/tuning/test_fastconsumer.py |
| `layers` | in-memory layer O(1) per delivery; pub/sub layer decodes an event once per process; drops counted and logged | `LIVEBOARD_CHANNEL_LAYER=core` (stock RedisChannelLayer) | channels `InMemoryChannelLayer`; channels-redis `RedisPubSubChannelLayer` | "in-memory layer made O(1)" row, "Capacity and expiry" | tests/tuning/test_fastconsumer.py, tests/realtime/test_cluster.py |
| `gctune` | `gc.freeze()` after set-up; fewer full collections | `LIVEBOARD_GC_GEN2_THRESHOLD=0` | CPython `gc` | "GC" rows | tests/tuning/test_process_tuning.py |
| `switchinterval` | GIL switch interval 0.5 ms with PostgreSQL | `LIVEBOARD_SWITCH_INTERVAL=0` | CPython `sys.setswitchinterval` | "switch interval" row | tests/tuning/test_process_tuning.py |
| `httphandler` | Django's middleware and view in one thread hop per request (16 → 3 for a REST PATCH) | use `django.core.asgi.get_asgi_application()` in boardsite/asgi.py | Django `ASGIHandler`, `BaseHandler.load_middleware` | "one-hop HTTP handler" | tests/tuning/test_httphandler.py |
| `statements` | a change's hot ORM statements compiled once per database | — (used by services/ordering; plain QuerySets) | Django `SQLCompiler` | "compiled statements" | tests/tuning/test_statements.py |

`httphandler` and `statements` are not patches (nothing is replaced in the
library); they are here because they lean on the same kind of internals.
"""

import logging

logger = logging.getLogger(__name__)

# module name -> the exception that kept its patch from applying.
FAILED = {}

_PATCHES = ("daphne_compat", "daphne_speed", "gctune", "switchinterval")


def apply_all():
    """Apply every patch once; one that raises is logged, recorded and skipped."""
    from importlib import import_module

    for name in _PATCHES:
        try:
            import_module(f"{__name__}.{name}").apply()
        except Exception as exc:  # an unknown upstream version must not stop the server
            from django.core.exceptions import ImproperlyConfigured

            if isinstance(exc, ImproperlyConfigured):
                raise
            FAILED[name] = exc
            logger.warning("tuning patch %s not applied: %r", name, exc)
