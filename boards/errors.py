"""
Domain errors, each with its wire `code` (SPEC §4) and HTTP status (§6).

Services raise these; the consumer turns them into `error` frames and the
REST views into responses, so both doors refuse the same things the same way.
"""


class LiveboardError(Exception):
    code = "bad_request"
    status = 400

    def __init__(self, message, **extra):
        super().__init__(message)
        self.message = message
        self.extra = extra


class BadRequest(LiveboardError):
    code = "bad_request"
    status = 400

    def __init__(self, message, fields=None, **extra):
        super().__init__(message, **extra)
        self.fields = fields or {}


class NotFound(LiveboardError):
    code = "not_found"
    status = 404


class Forbidden(LiveboardError):
    code = "forbidden"
    status = 403


class Conflict(LiveboardError):
    """Stale `version`; carries the current task so the client can rebase."""

    code = "conflict"
    status = 409
