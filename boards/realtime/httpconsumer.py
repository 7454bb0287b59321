"""
HTTP doors to a board's live events, on Channels (SPEC §5, §6): what they share.

* `BoardEventStream` (sse.py) — Server-Sent Events at GET /boards/<id>/events.
* `LongPollConsumer` (longpoll.py) — GET /api/boards/<id>/events?since=N[&wait=S][&limit=L].

This module holds their base class (routing, auth, group bookkeeping) and
their database helpers.

Both are AsyncHttpConsumers routed in boardsite/asgi.py before Django, and
both join the board's group ("board.<id>") like a WebSocket does. Django's
own request path would run a waiting view on the one thread that serves
every sync view (a sync-only middleware such as WhiteNoise forces that), so
waiting happens here, on the event loop, and only the short ORM reads go to
a thread.

The hand-over from log to live stream is the WebSocket join's: join the
group first, then read the board's seq and replay from the log; a live frame
at or below what was already sent is dropped. The SSE stream also closes
gaps itself: a live frame that skips seqs (another frame was lost to the
channel layer's capacity, or overtaken) makes it read the missing events
from the log before sending it, and every heartbeat compares its position
with the board's seq, so even the last event of a quiet board is never lost.
"""

import asyncio
import functools
import logging

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.http import AsyncHttpConsumer
from django.contrib.auth.models import AnonymousUser
from django.db import close_old_connections

from boards import eventlog, permissions, wire
from boards.errors import LiveboardError
from boards.models import Board
from boards.realtime import broadcast, polling
from boards.realtime.middleware import header, host_allowed

logger = logging.getLogger(__name__)

JSON_HEADERS = [
    (b"content-type", b"application/json"),
    (b"cache-control", b"no-store"),
    (b"x-content-type-options", b"nosniff"),
]


class AuthenticationFailed(Exception):
    pass


# --- sync helpers (ORM), run on the database thread ----------------------------


def _orm(fn):
    """database_sync_to_async, closing the connection as a request would.

    database_sync_to_async's own close_old_connections() runs outside the
    caller's context, where (asgiref ≥ 3.10 keeps connections per context)
    it does not see the connection the function opened; a stream could then
    hold one for its whole life. Closing inside the call honours CONN_MAX_AGE.
    """

    @functools.wraps(fn)
    def call(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        finally:
            close_old_connections()

    return database_sync_to_async(call)


@_orm
def _token_user(key):
    from rest_framework import exceptions
    from rest_framework.authentication import TokenAuthentication

    try:
        user, _ = TokenAuthentication().authenticate_credentials(key)
    except exceptions.AuthenticationFailed as exc:
        raise AuthenticationFailed(str(exc.detail)) from None
    return user


@_orm
def _viewable(user, slug):
    """(board, None) or (None, (status, body))."""
    try:
        return polling.viewable_board(user, slug), None
    except LiveboardError as exc:
        return None, wire.rest_error(exc)


@_orm
def _events_body(user, slug, since, limit):
    return polling.events_body(user, slug, since, limit)


@_orm
def _catch_up(board_pk, since):
    """(board seq, frames after `since`, resync reason or None); None if the board is gone."""
    board = Board.objects.filter(pk=board_pk).first()
    if board is None:
        return None, [], None
    return eventlog.catch_up(board, since)


@_orm
def _board_seq(board_pk):
    return Board.objects.filter(pk=board_pk).values_list("last_seq", flat=True).first()


@_orm
def _may_view(user, board_pk):
    board = Board.objects.filter(pk=board_pk).first()
    return board is not None and permissions.can_view(user, board)


# --- request plumbing -----------------------------------------------------------


async def request_user(scope):
    """DRF's order: `Authorization: Token <key>` if given, else the session user."""
    auth = (header(scope, b"authorization") or "").split()
    if auth and auth[0].lower() == "token":
        if len(auth) != 2:
            raise AuthenticationFailed("Invalid token header.")
        return await _token_user(auth[1])
    return scope.get("user") or AnonymousUser()


def sse_message(frame_text, event, event_id=None):
    lines = []
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines.append(f"event: {event}")
    lines.append(f"data: {frame_text}")
    return ("\n".join(lines) + "\n\n").encode("utf-8")


class BoardHttpConsumer(AsyncHttpConsumer):
    """Routing, auth and group bookkeeping shared by the two HTTP doors.

    Unlike AsyncHttpConsumer, a request does not end when its handler
    returns: the consumer keeps listening to the board's group until it has
    answered, or until the client goes away (http.disconnect).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.started = False
        self.group = None
        self.tasks = []

    async def dispatch(self, message):
        # Like BoardConsumer: no hop to the sync thread before every message
        # (our ORM work goes through database_sync_to_async), and message
        # kinds this door does not use (presence, newer ones) are ignored.
        handler = getattr(self, get_handler_name(message), None)
        if handler is not None:
            await handler(message)

    async def http_request(self, message):
        if message.get("more_body") or self.started:
            return  # a GET's body is ignored
        self.started = True
        if self.scope.get("method") != "GET":
            await self.respond(405, {"detail": "Method not allowed."}, [(b"allow", b"GET")])
            await self.finish()
        if not host_allowed(self.scope):
            await self.respond(400, {"detail": "Invalid Host header."})
            await self.finish()
        try:
            self.user = await request_user(self.scope)
        except AuthenticationFailed as exc:
            await self.respond(401, {"detail": str(exc)}, [(b"www-authenticate", b"Token")])
            await self.finish()
        self.slug = self.scope["url_route"]["kwargs"]["slug"]
        try:
            await self.start()
        except StopConsumer:
            raise
        except Exception:
            logger.exception("%s failed for %s", type(self).__name__, self.scope.get("path"))
            await self.leave_group()
            raise

    async def http_disconnect(self, message):
        await self.leave_group()
        raise StopConsumer()

    async def start(self):
        raise NotImplementedError

    async def respond(self, status, body, headers=()):
        data = wire.dumps(body).encode("utf-8")
        length = [(b"content-length", str(len(data)).encode())]
        await self.send_response(status, data, headers=[*JSON_HEADERS, *length, *headers])

    async def finish(self):
        """The answer is complete: stop listening and end this consumer."""
        await self.leave_group()
        raise StopConsumer()

    async def join_group(self):
        self.group = broadcast.group_name(self.slug)
        await self.channel_layer.group_add(self.group, self.channel_name)

    async def leave_group(self):
        current = asyncio.current_task()
        for task in self.tasks:
            if task is not current:
                task.cancel()
        self.tasks = []
        group, self.group = self.group, None
        if group is not None:
            try:
                await self.channel_layer.group_discard(group, self.channel_name)
            except Exception:  # the layer is down: membership expires with it
                logger.warning("group_discard of %s from %s failed", self.channel_name, group, exc_info=True)

    def spawn(self, coro):
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.append(task)
        return task
