"""
System checks for the tuning patches (Django's checks framework).

`manage.py check` (and every runserver / daphne start through ready())
warns when a patch of boards/tuning could not apply (liveboard.W001), or
when a library it reaches into is not the version it was written and
measured against (liveboard.W002): the patch may then be a no-op, or
worse, so run the suite (tests/tuning/) and the bench before trusting it.
"""

from importlib import metadata

from django.core import checks

# Distribution -> the version boards/tuning was measured against (as pinned in requirements.txt).
PINNED = {
    "daphne": "4.2.3",
    "autobahn": "26.11.1",
    "Twisted": "26.10.0",
    "channels": "4.3.2",
    "channels-redis": "4.3.0",
    "asgiref": "3.13.0",
    "Django": "5.2.19",
}

# What the patches reach into: (import path, attribute chain).
REQUIRED = [
    ("daphne.ws_protocol", "WebSocketProtocol.serverClose"),
    ("daphne.ws_protocol", "WebSocketProtocol.serverSend"),
    ("daphne.ws_protocol", "WebSocketProtocol.sendData"),
    ("daphne.ws_protocol", "WebSocketProtocol.sendCloseFrame"),
    ("daphne.ws_protocol", "WebSocketFactory.setProtocolOptions"),
    ("daphne.access", "AccessLogGenerator.write_entry"),
    ("daphne.server", "Server.handle_reply"),
    ("twisted.internet.tcp", "Connection.write"),
    ("channels.sessions", "InstanceSessionWrapper.send"),
    ("channels.layers", "InMemoryChannelLayer"),
    ("channels_redis.pubsub", "RedisPubSubChannelLayer"),
    ("asgiref.sync", "SyncToAsync.threadlocal"),
    ("django.core.handlers.asgi", "ASGIHandler.run_get_response"),
]


def _has(module, chain):
    from importlib import import_module

    try:
        obj = import_module(module)
    except ImportError:
        return False
    for part in chain.split("."):
        if not hasattr(obj, part):
            return False
        obj = getattr(obj, part)
    return True


@checks.register("liveboard")
def tuning_patches_apply(app_configs=None, **kwargs):
    from boards.tuning import FAILED

    problems = []
    for name, exc in sorted(FAILED.items()):
        problems.append(
            checks.Warning(
                f"boards.tuning.{name} could not be applied: {exc!r}",
                hint="The server runs without it (slower). See boards/tuning/__init__.py.",
                id="liveboard.W001",
            )
        )
    for module, chain in REQUIRED:
        if not _has(module, chain):
            problems.append(
                checks.Warning(
                    f"{module}.{chain}, which boards.tuning patches or relies on, does not exist in the installed version",
                    hint="A tuning patch cannot apply; pin the version in requirements.txt or update the patch.",
                    id="liveboard.W001",
                )
            )
    for dist, pinned in PINNED.items():
        try:
            installed = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
        if installed != pinned:
            problems.append(
                checks.Warning(
                    f"{dist} {installed} is installed; boards.tuning was written and measured against {pinned}",
                    hint="Run tests/tuning/ and `make bench` before relying on the tuning patches.",
                    id="liveboard.W002",
                )
            )
    return problems
