"""
GET /api/boards/<id>/events — the polling side of SPEC §5/§6, in one place.

Two doors serve that URL and both call these functions, so they answer alike:

* the DRF view (boards/api/boards.py) for Django's own URLconf — the test
  client, or Django mounted without boardsite.asgi — which never waits;
* `LongPollConsumer` (boards/realtime/sse.py, longpoll.py), routed before Django in
  boardsite/asgi.py, which is what a real server runs: it adds `wait`
  (long polling) without holding a thread.

Query parameters: `since` (last seq seen, default 0), `limit` (page size,
default and maximum LIVEBOARD_EVENTS_PAGE_MAX), `wait` (seconds to hold the
request while there is nothing new, capped at LIVEBOARD_LONGPOLL_MAX_WAIT).

The body is `{"events": [frames], "seq": N}` where `seq` is the board's
current seq; a page cut short by `limit` adds `"more": true` and `"last"`
(the seq of its last event — pass it as the next `since`). Events no longer
kept (or `since` ahead of the board) → 409 `resync_required`.
"""

import json
import math

from django.conf import settings

from boards import eventlog, permissions, wire
from boards.errors import LiveboardError


class BadParams(Exception):
    def __init__(self, fields):
        super().__init__(fields)
        self.fields = fields


def _int(name, raw, minimum):
    try:
        value = int(raw)
    except (TypeError, ValueError):
        value = None
    if value is None or value < minimum or str(raw).strip() != str(raw):
        word = "non-negative" if minimum == 0 else "positive"
        raise BadParams({name: [f"A {word} integer is required."]})
    return value


def parse_params(get):
    """(since, limit, wait) from a mapping of query parameters, or BadParams.

    `limit` and `wait` above their maximum are lowered to it, not refused.
    """
    since = _int("since", get("since"), 0) if get("since") is not None else 0
    page_max = max(1, settings.LIVEBOARD_EVENTS_PAGE_MAX)
    limit = min(_int("limit", get("limit"), 1), page_max) if get("limit") is not None else page_max
    wait = 0.0
    raw = get("wait")
    if raw is not None:
        try:
            wait = float(raw)
        except ValueError:
            wait = -1.0
        if not math.isfinite(wait) or wait < 0:
            raise BadParams({"wait": ["A non-negative number of seconds is required."]})
        wait = min(wait, max(0.0, settings.LIVEBOARD_LONGPOLL_MAX_WAIT))
    return since, limit, wait


def viewable_board(user, slug):
    """The board or a LiveboardError (404 unknown, 403 not allowed)."""
    return permissions.board_for_viewing(user, slug)


def events_body(user, slug, since, limit):
    """(status, body) for one poll: a page of events after `since`, now.

    Synchronous (ORM); the board row is read once, so `seq` and the page
    agree even while events are being committed.
    """
    try:
        board = viewable_board(user, slug)
    except LiveboardError as exc:
        return wire.rest_error(exc)
    try:
        frames, more = eventlog.events_page(board, since, limit)
    except eventlog.ResyncRequired as exc:
        return 409, wire.events_resync(board.last_seq, str(exc))
    return 200, wire.events_page([json.loads(event.text) for event in frames], board.last_seq, more)
