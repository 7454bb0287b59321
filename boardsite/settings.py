"""
Liveboard settings.

Everything a deployment changes comes from the environment (SPEC §8) with a
safe default: DEBUG off, loopback-only ALLOWED_HOSTS, SQLite and the
in-memory channel layer when no DATABASE_URL / REDIS_URL is given.
"""

import os
import secrets
import tempfile
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name, default):
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_float(name, default):
    value = os.environ.get(name)
    return float(value) if value not in (None, "") else default


def env_list(name, default):
    value = os.environ.get(name)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def _secret_key():
    """SECRET_KEY from the environment, else one generated once per checkout.

    A fresh clone must run without configuration, but a hard-coded key would
    be a shared secret; a key written to a git-ignored file survives restarts
    (sessions, WebSocket tickets) and is unique to this machine. Several
    machines serving one site must set SECRET_KEY.
    """
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    path = BASE_DIR / ".secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        key = secrets.token_urlsafe(50)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process won the race
            return path.read_text().strip()
        with os.fdopen(fd, "w") as fh:
            fh.write(key)
        return key


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",  # runserver serves HTTP and WebSocket
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "rest_framework",
    "rest_framework.authtoken",
    "boards",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "boardsite.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = None
ASGI_APPLICATION = "boardsite.asgi.application"

# --- Database -------------------------------------------------------------
# SQLite by default. IMMEDIATE transactions take the write lock up front, so
# two writers never deadlock upgrading a read lock, and the board-row lock
# that hands out sequence numbers (boards/eventlog.py) is a real lock there too.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("CONN_MAX_AGE", 0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A SQLite "connection" is an open file on the one sync thread of the
    # process: keep it rather than reopen it (and rerun init_command) for
    # every database_sync_to_async call — a 1,000-viewer join storm took 8.2 s
    # with reopening and 4.9 s without (bench/run.py). PostgreSQL keeps
    # Django's default of 0 under ASGI and pools connections instead (below).
    DATABASES["default"]["CONN_MAX_AGE"] = env_int("CONN_MAX_AGE", 600)
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not shared-cache memory: the tests run consumers and ORM calls on
    # several threads, and shared-cache SQLite raises "table is locked"
    # instead of waiting.
    # One per test process, so parallel runs never share it.
    DATABASES["default"]["TEST"] = {
        "NAME": os.environ.get("SQLITE_TEST_NAME")
        or os.path.join(tempfile.gettempdir(), f"liveboard-test-{os.getpid()}.sqlite3")
    }

elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and not DATABASES["default"]["CONN_MAX_AGE"]:
    # A pool of connections per process (Django ≥ 5.1, psycopg_pool) instead
    # of a new connection — a new PostgreSQL backend — for every
    # database_sync_to_async call. DATABASE_POOL_SIZE=0 turns it off;
    # CONN_MAX_AGE > 0 (persistent connections) cannot be combined with it.
    _pool_size = env_int("DATABASE_POOL_SIZE", 4)
    if _pool_size > 0:
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": 1,
            "max_size": _pool_size,
            "timeout": env_float("DATABASE_POOL_TIMEOUT", 10.0),
        }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Channel layer -------------------------------------------------------
# Unset REDIS_URL: the in-memory layer (one process). Set: channels-redis.
# The pub/sub layer is the default: it publishes an event once per process
# instead of pushing one copy per member, and keeps group membership in
# process memory, so a mass disconnect cannot leave ghosts in Redis
# (measured in README "Scaling out"). LIVEBOARD_CHANNEL_LAYER=core selects
# RedisChannelLayer instead. rediss:// URLs give TLS; REDIS_SENTINELS
# ("host:port,host:port") + REDIS_SENTINEL_MASTER use Sentinel.
REDIS_URL = os.environ.get("REDIS_URL", "")
LIVEBOARD_REDIS_PREFIX = os.environ.get("LIVEBOARD_REDIS_PREFIX", "liveboard")
CHANNEL_CAPACITY = env_int("LIVEBOARD_CHANNEL_CAPACITY", 1000)
LIVEBOARD_CHANNEL_LAYER = os.environ.get("LIVEBOARD_CHANNEL_LAYER", "pubsub")


def _redis_host():
    sentinels = env_list("REDIS_SENTINELS", [])
    if sentinels:
        return {
            "sentinels": [(h.rsplit(":", 1)[0], int(h.rsplit(":", 1)[1])) for h in sentinels],
            "master_name": os.environ.get("REDIS_SENTINEL_MASTER", "mymaster"),
        }
    return {"address": REDIS_URL} if REDIS_URL else None


# The one switch between embedded and scaled mode (layer and presence).
LIVEBOARD_REDIS_HOST = _redis_host()
if LIVEBOARD_REDIS_HOST:
    if LIVEBOARD_CHANNEL_LAYER == "core":
        CHANNEL_LAYERS = {
            "default": {
                "BACKEND": "channels_redis.core.RedisChannelLayer",
                "CONFIG": {
                    "hosts": [LIVEBOARD_REDIS_HOST],
                    "capacity": CHANNEL_CAPACITY,
                    "expiry": 60,
                    "prefix": LIVEBOARD_REDIS_PREFIX,
                },
            }
        }
    else:
        CHANNEL_LAYERS = {
            "default": {
                # channels-redis' pub/sub layer, decoding each event once per process (boards/tuning/layers.py).
                "BACKEND": "boards.tuning.layers.LiveboardRedisPubSubChannelLayer",
                "CONFIG": {"hosts": [LIVEBOARD_REDIS_HOST], "prefix": LIVEBOARD_REDIS_PREFIX},
            }
        }
else:
    CHANNEL_LAYERS = {
        "default": {
            # channels' InMemoryChannelLayer made O(1) per delivery (boards/tuning/layers.py).
            "BACKEND": "boards.tuning.layers.LiveboardInMemoryChannelLayer",
            "CONFIG": {"capacity": CHANNEL_CAPACITY, "expiry": 60},
        }
    }

# --- Auth, REST -------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "board-list"
LOGOUT_REDIRECT_URL = "board-list"

REST_FRAMEWORK = {
    # Token first: an unauthenticated request gets 401 with a
    # WWW-Authenticate header rather than a bare 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["boards.api.parsers.JSONParser"],  # DRF's; deep nesting is a 400
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append(
        "rest_framework.renderers.BrowsableAPIRenderer"
    )

# --- Internationalization / static ----------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Only needed for `collectstatic` (e.g. to hand files to nginx or a CDN).
STATIC_ROOT = os.environ.get("STATIC_ROOT") or None
# Serve straight from the app/static folders so a fresh clone needs no
# collectstatic; `collectstatic` still works for a CDN or nginx.
WHITENOISE_USE_FINDERS = True

# --- Security (production: set DEBUG=0 and the HTTPS variables) ----------
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", False)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
if env_bool("SECURE_PROXY_SSL", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Liveboard ----------------------------------------------------------------
# Limits and tunables (SPEC §10); read through boards.conf.
LIVEBOARD_MAX_FRAME_BYTES = env_int("LIVEBOARD_MAX_FRAME_BYTES", 64 * 1024)
# daphne's own cap on a WebSocket message/frame (autobahn closes with 1009
# without a word above it). Kept above the app's limit so a frame a bit over
# LIVEBOARD_MAX_FRAME_BYTES gets the `too_large` error before the close, and
# well below daphne's 1 MiB default so nobody can make a process buffer more.
# `manage.py runserver` reads these; plain daphne takes the same numbers as
# `daphne --websocket-max-message-size N --websocket-max-frame-size N`.
DAPHNE_WEBSOCKET_MAX_MESSAGE_SIZE = env_int("DAPHNE_WEBSOCKET_MAX_MESSAGE_SIZE", 4 * LIVEBOARD_MAX_FRAME_BYTES)
DAPHNE_WEBSOCKET_MAX_FRAME_SIZE = env_int("DAPHNE_WEBSOCKET_MAX_FRAME_SIZE", 4 * LIVEBOARD_MAX_FRAME_BYTES)
# Open sockets per logged-in user, per server process (0 = no limit).
LIVEBOARD_MAX_CONNECTIONS_PER_USER = env_int("LIVEBOARD_MAX_CONNECTIONS_PER_USER", 0)
# Channel-layer messages are dispatched during the layer's delivery when the
# consumer is idle (boards/tuning/fastconsumer.py); off: always through its queue.
LIVEBOARD_DIRECT_DISPATCH = env_bool("LIVEBOARD_DIRECT_DISPATCH", True)
LIVEBOARD_RATE_LIMIT = env_float("LIVEBOARD_RATE_LIMIT", 20.0)
LIVEBOARD_RATE_BURST = env_int("LIVEBOARD_RATE_BURST", 40)
LIVEBOARD_RATE_STRIKES = env_int("LIVEBOARD_RATE_STRIKES", 20)
LIVEBOARD_MAX_BOARDS_PER_CONNECTION = env_int("LIVEBOARD_MAX_BOARDS_PER_CONNECTION", 50)
LIVEBOARD_EVENT_RETENTION = env_int("LIVEBOARD_EVENT_RETENTION", 10_000)
# Events older than this many seconds are pruned too (0: no age limit); a
# board's newest event is always kept (see prune_events).
LIVEBOARD_EVENT_MAX_AGE = env_int("LIVEBOARD_EVENT_MAX_AGE", 7 * 24 * 3600)
# GET /api/boards/<id>/events: at most this many events per page (`limit`),
# and long polling (`wait`) holds a request at most this many seconds.
LIVEBOARD_EVENTS_PAGE_MAX = env_int("LIVEBOARD_EVENTS_PAGE_MAX", 1000)
LIVEBOARD_LONGPOLL_MAX_WAIT = env_float("LIVEBOARD_LONGPOLL_MAX_WAIT", 25.0)
# Server-Sent Events (/boards/<id>/events): a comment line this often keeps
# proxies from cutting an idle stream and lets the server notice a dead peer.
LIVEBOARD_SSE_HEARTBEAT = env_float("LIVEBOARD_SSE_HEARTBEAT", 15.0)
LIVEBOARD_REPLAY_LIMIT = env_int("LIVEBOARD_REPLAY_LIMIT", 10_000)
LIVEBOARD_TICKET_TTL = env_int("LIVEBOARD_TICKET_TTL", 60)
LIVEBOARD_PRESENCE_COALESCE_THRESHOLD = env_int("LIVEBOARD_PRESENCE_COALESCE_THRESHOLD", 50)
# SPEC §11: announcements shown to pages opened later (s); an editing mark's
# life without a refresh (s); how often a socket's frames refresh its user's
# lastSeen in the presence store (s: one write per board per interval, not per frame).
LIVEBOARD_ANNOUNCEMENT_TTL = env_int("LIVEBOARD_ANNOUNCEMENT_TTL", 3600)
LIVEBOARD_EDITING_TTL = env_float("LIVEBOARD_EDITING_TTL", 30.0)
LIVEBOARD_LAST_SEEN_INTERVAL = env_float("LIVEBOARD_LAST_SEEN_INTERVAL", 10.0)
LIVEBOARD_PRESENCE_INTERVAL = env_float("LIVEBOARD_PRESENCE_INTERVAL", 1.0)
# Redis presence: a process that stops beating for TTL seconds is swept by
# the others within SWEEP more; its viewers get user_left.
LIVEBOARD_PRESENCE_TTL = env_float("LIVEBOARD_PRESENCE_TTL", 30.0)
LIVEBOARD_PRESENCE_SWEEP = env_float("LIVEBOARD_PRESENCE_SWEEP", 10.0)

# --- Server tuning (boards/tuning/: what each changes and why, measured) ------
# Twisted writes go out at once when nothing is queued, batched to the end of
# the loop turn, with one frame built per broadcast (tuning/daphne_speed.py).
LIVEBOARD_TWISTED_WRITE_THROUGH = env_bool("LIVEBOARD_TWISTED_WRITE_THROUGH", True)
LIVEBOARD_WRITE_BATCH = env_bool("LIVEBOARD_WRITE_BATCH", True)
# Young-generation collections between full ones (tuning/gctune.py); 0 leaves CPython's.
LIVEBOARD_GC_GEN2_THRESHOLD = env_int("LIVEBOARD_GC_GEN2_THRESHOLD", 1000)
# GIL switch interval in seconds (tuning/switchinterval.py): 0.5 ms with
# PostgreSQL, CPython's own (0) with SQLite, where it measured no gain.
try:
    LIVEBOARD_SWITCH_INTERVAL = env_float(
        "LIVEBOARD_SWITCH_INTERVAL",
        0.0005 if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" else 0.0,
    )
except ValueError:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        f"LIVEBOARD_SWITCH_INTERVAL must be a number of seconds, not {os.environ['LIVEBOARD_SWITCH_INTERVAL']!r}"
    ) from None

# --- Logging ------------------------------------------------------------------
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "filters": {
        # ?ticket=… and other secret query values never reach a log line.
        "redact_secrets": {"()": "boards.logfilters.RedactSecrets"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact_secrets"]},
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "boards": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
