"""
HTTP doors to a board's live events, on Channels (SPEC §5, §6).

* `BoardEventStream` — Server-Sent Events at GET /boards/<id>/events.
* `LongPollConsumer` — GET /api/boards/<id>/events?since=N[&wait=S][&limit=L].

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
import json
import logging
from urllib.parse import parse_qs

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.http import AsyncHttpConsumer
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import close_old_connections

from boards import permissions, services, wire
from boards.realtime import broadcast, polling
from boards.errors import LiveboardError
from boards.realtime.middleware import header, host_allowed
from boards.models import Board

logger = logging.getLogger(__name__)

JSON_HEADERS = [
    (b"content-type", b"application/json"),
    (b"cache-control", b"no-store"),
    (b"x-content-type-options", b"nosniff"),
]
SSE_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-store"),
    (b"x-accel-buffering", b"no"),  # nginx: do not buffer the stream
    (b"x-content-type-options", b"nosniff"),
]
SSE_RETRY_MS = 3000


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
        return None, polling.error_body(exc)


@_orm
def _events_body(user, slug, since, limit):
    return polling.events_body(user, slug, since, limit)


@_orm
def _catch_up(board_pk, since):
    """(board seq, frames after `since`, resync reason or None); None if the board is gone."""
    board = Board.objects.filter(pk=board_pk).first()
    if board is None:
        return None, [], None
    return services.catch_up(board, since)


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


def _sse(frame_text, event, event_id=None):
    lines = []
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines.append(f"event: {event}")
    lines.append(f"data: {frame_text}")
    return ("\n".join(lines) + "\n\n").encode("utf-8")


class _BoardHttpConsumer(AsyncHttpConsumer):
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


class BoardEventStream(_BoardHttpConsumer):
    """GET /boards/<id>/events — a board's events as Server-Sent Events.

    Each event: `id:` its seq, `event:` its type, `data:` its JSON frame,
    exactly as on the WebSocket. The stream opens with `event: joined`
    (`{"type":"joined","boardId","seq"}`); without a resume point that event
    carries `id:` = the current seq, so a browser that reconnects resumes
    from there. Resume point: the `Last-Event-ID` header (what EventSource
    sends on reconnect), else `?since=`. Events after it are replayed from
    the log before live ones; if they are gone, `event: resync_required`
    (id = the current seq) says to reload the snapshot. A comment line
    every LIVEBOARD_SSE_HEARTBEAT seconds keeps the stream alive.
    """

    async def start(self):
        since = self._resume_point()
        if since is False:
            await self.respond(400, {"Last-Event-ID": ["A non-negative integer is required."]})
            await self.finish()
        board, error = await _viewable(self.user, self.slug)
        if error:
            await self.respond(*error)
            await self.finish()
        self.board_pk = board.pk
        self.lock = asyncio.Lock()
        # Join first, then read the seq: later commits arrive live, earlier ones are replayed.
        await self.join_group()
        seq, missed, resync = await _catch_up(board.pk, since)
        if seq is None:
            await self.respond(404, {"detail": f"Unknown board: {self.slug}", "code": "not_found"})
            await self.finish()
        self.last = seq
        joined = wire.dumps({"type": "joined", "boardId": self.slug, "seq": seq})
        head = f"retry: {SSE_RETRY_MS}\n".encode() + _sse(joined, "joined", seq if since is None else None)
        await self.send_headers(status=200, headers=SSE_HEADERS)
        await self.send_body(head, more_body=True)
        if resync:
            await self._send_resync(seq, resync)
        for frame in missed:
            await self.send_body(_sse(wire.dumps(frame), frame["type"], frame["seq"]), more_body=True)
        self.spawn(self._heartbeat())

    def _resume_point(self):
        """Last-Event-ID, else ?since=, else None; False if malformed."""
        raw = header(self.scope, b"last-event-id")
        if raw is None or raw.strip() == "":
            query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
            raw = query["since"][-1] if "since" in query else None
        if raw is None:
            return None
        raw = raw.strip()
        return int(raw) if raw.isdigit() and raw.isascii() else False

    async def _send_resync(self, seq, reason):
        frame = {"type": "resync_required", "boardId": self.slug, "seq": seq, "error": reason}
        await self.send_body(_sse(wire.dumps(frame), "resync_required", seq), more_body=True)

    async def _catch_up_to_log(self):
        """Send every logged event after `self.last` (caller holds the lock)."""
        seq, frames, resync = await _catch_up(self.board_pk, self.last)
        if seq is None:
            return False  # board deleted
        if resync:
            await self._send_resync(seq, resync)
            self.last = seq
        for frame in frames:
            if frame["seq"] > self.last:
                await self.send_body(_sse(wire.dumps(frame), frame["type"], frame["seq"]), more_body=True)
                self.last = frame["seq"]
        return True

    async def board_event(self, message):
        if self.group is None or message.get("board") != self.slug:
            return
        seq = message.get("seq")
        async with self.lock:
            if seq is None or seq <= self.last:
                return  # already sent (replayed, or filled from the log)
            if seq == self.last + 1:
                self.last = seq
                await self.send_body(_sse(message["text"], json.loads(message["text"])["type"], seq), more_body=True)
                return
            # Frames before this one were lost or are still on their way: the log has them.
            if not await self._catch_up_to_log():
                await self._end()

    async def board_access(self, message):
        """A membership or the board's visibility changed: may we still show it?"""
        if self.group is None:
            return
        user_id = message.get("user_id")
        if user_id is not None and user_id != getattr(self.user, "pk", None):
            return
        if not await _may_view(self.user, self.board_pk):
            frame = wire.error("forbidden", f"You may no longer view board {self.slug}", boardId=self.slug)
            await self.send_body(_sse(wire.dumps(frame), "error"), more_body=True)
            await self._end()

    async def _end(self):
        await self.leave_group()
        await self.send_body(b"", more_body=False)
        raise StopConsumer()

    async def _heartbeat(self):
        interval = max(0.05, settings.LIVEBOARD_SSE_HEARTBEAT)
        try:
            while True:
                await asyncio.sleep(interval)
                await self.send_body(b": heartbeat\n\n", more_body=True)
                # A quiet board's last event may have been lost live: the log knows.
                seq = await _board_seq(self.board_pk)
                if seq is not None and seq > self.last:
                    async with self.lock:
                        if seq > self.last:
                            await self._catch_up_to_log()
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.warning("SSE heartbeat for %s stopped", self.slug, exc_info=True)


class LongPollConsumer(_BoardHttpConsumer):
    """GET /api/boards/<id>/events — short and long polling (boards/polling.py).

    With `wait`, a poll that finds nothing new stays open until an event
    with a seq above `since` is broadcast (then answers with the page from
    the log) or until `wait` seconds pass (then answers with what the log
    has — normally `{"events": [], "seq": since}`).
    """

    async def start(self):
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        try:
            self.since, self.limit, wait = polling.parse_params(lambda k: query[k][-1] if k in query else None)
        except polling.BadParams as exc:
            await self.respond(400, exc.fields)
            await self.finish()
        self.waiting = False
        if wait > 0:
            board, error = await _viewable(self.user, self.slug)
            if error:
                await self.respond(*error)
                await self.finish()
            self.board_pk = board.pk
            await self.join_group()  # before reading: nothing committed after the read is missed
        status, body = await _events_body(self.user, self.slug, self.since, self.limit)
        if wait <= 0 or status != 200 or body["events"]:
            await self.respond(status, body)
            await self.finish()
        self.waiting = True
        self.spawn(self._expire(wait))

    async def _answer(self):
        """Answer with the log's page after `since` (only once)."""
        if not self.waiting:
            return False
        self.waiting = False
        await self.leave_group()
        status, body = await _events_body(self.user, self.slug, self.since, self.limit)
        await self.respond(status, body)
        return True

    async def _expire(self, wait):
        await asyncio.sleep(wait)
        # The server sends http.disconnect once the response is complete.
        await self._answer()

    async def board_event(self, message):
        if self.waiting and message.get("board") == self.slug and (message.get("seq") or 0) > self.since:
            if await self._answer():
                raise StopConsumer()

    async def board_access(self, message):
        if not self.waiting:
            return
        user_id = message.get("user_id")
        if user_id is not None and user_id != getattr(self.user, "pk", None):
            return
        if not await _may_view(self.user, self.board_pk):
            if await self._answer():  # the page read answers 403 now
                raise StopConsumer()
