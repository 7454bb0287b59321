"""
Keep credentials out of logs.

WebSocket tickets are passed as `?ticket=…`; a client might also put a token,
session id or password in a URL. Request lines reach the logs through
daphne's access log and the `django.channels.server` logger of
`manage.py runserver`. `RedactSecrets` (installed on the console handler in
settings.LOGGING) and daphne's access-log writer (boards.tuning.daphne_compat)
replace the value of such query parameters with `[redacted]`.
"""

import logging
import re

SECRET_PARAMS = ("ticket", "token", "access_token", "auth", "key", "api_key", "password", "sessionid", "session")

_SECRET_QUERY = re.compile(
    r"(?i)([?&;](?:%s)=)[^&;#\s\"']*" % "|".join(re.escape(name) for name in SECRET_PARAMS)
)
REDACTED = "[redacted]"


def redact(text):
    """`text` with the values of secret-looking query parameters replaced."""
    if not isinstance(text, str) or "=" not in text:
        return text
    return _SECRET_QUERY.sub(lambda m: m.group(1) + REDACTED, text)


def _redact_arg(value):
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _redact_arg(v) for k, v in value.items()}
    return value


class RedactSecrets(logging.Filter):
    """Rewrites a record's message and arguments so no secret query value is printed."""

    def filter(self, record):
        record.msg = redact(record.msg) if isinstance(record.msg, str) else record.msg
        if isinstance(record.args, dict):
            record.args = _redact_arg(record.args)
        elif isinstance(record.args, tuple):
            record.args = tuple(_redact_arg(arg) for arg in record.args)
        return True
