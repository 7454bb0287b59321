"""
BoardConsumer: one WebSocket, many boards (SPEC §4).

`join`/`leave` map onto `group_add`/`group_discard` of the board's group.
Task changes go through boards.services in a worker thread; the model
signals record the event and broadcast it after commit. Broadcasts come back
here as `board.event` messages, already serialised; the handler only drops
the one this connection made (`exclude` == our channel name) and the ones a
join's replay already covered (seq ≤ the join's floor).
"""

import json
import logging

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.contrib.auth.models import AnonymousUser

from boards import eventlog, permissions, services, validation, wire
from boards.realtime import broadcast
from boards.errors import BadRequest, Forbidden, LiveboardError
from boards.tuning.fastconsumer import LeanDispatchMixin
from boards.models import Board
from boards.realtime.presence import get_presence
from boards.realtime.ratelimit import TokenBucket

logger = logging.getLogger(__name__)

REF_MAX = 64

# Close codes (SPEC §4).
CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009


def _run_as(channel_name, fn, *args):
    """Run a service function with the change attributed to this socket."""
    with eventlog.acting_channel(channel_name):
        return fn(*args)


@database_sync_to_async
def _service(channel_name, fn, *args):
    return _run_as(channel_name, fn, *args)


@database_sync_to_async
def _viewable_board(user, slug):
    return permissions.board_for_viewing(user, slug)


@database_sync_to_async
def _catch_up(board_pk, since, user=None):
    """Current seq, plus the events after `since` (or a resync marker).

    With `user`, re-checks that they may still view the board (Forbidden if
    not): run after group_add, this closes the window in which a membership
    revoked during the join would be announced before we were listening.
    """
    board = Board.objects.get(pk=board_pk)
    if user is not None and not permissions.can_view(user, board):
        raise Forbidden(f"You may not view board {board.slug}")
    return services.catch_up(board, since)


@database_sync_to_async
def _may_still_view(user, slug):
    board = Board.objects.filter(slug=slug).first()
    return board is None or permissions.can_view(user, board)  # a deleted board is not a revocation


@database_sync_to_async
def _current_seqs(slugs):
    return dict(Board.objects.filter(slug__in=slugs).values_list("slug", "last_seq"))


class BoardConsumer(LeanDispatchMixin, AsyncWebsocketConsumer):
    async def dispatch(self, message):
        # channels' AsyncConsumer.dispatch hops to the sync thread before
        # every handler to close stale DB connections. Our DB work all goes
        # through database_sync_to_async, which does that itself, so the hop
        # would only serialise broadcast fan-out behind one thread.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    # --- connection lifecycle -------------------------------------------

    async def connect(self):
        self.user = self.scope.get("user") or AnonymousUser()
        self.me = wire.user_dict(self.user)
        self.joined = {}  # board slug -> replay floor (seqs ≤ it are not forwarded live)
        self.presence_floor = {}  # board slug -> presence version of our join
        self.bucket = TokenBucket(settings.LIVEBOARD_RATE_LIMIT, settings.LIVEBOARD_RATE_BURST)
        self.strikes = 0
        self.presence = get_presence()
        await self.accept()
        if not self._count_connection():
            limit = settings.LIVEBOARD_MAX_CONNECTIONS_PER_USER
            await self._send(wire.error("rate_limited", f"Too many open connections for this user (limit {limit})"))
            await self.close(code=CLOSE_POLICY)

    # Open sockets per user id in this process (LIVEBOARD_MAX_CONNECTIONS_PER_USER).
    connections_per_user = {}

    def _count_connection(self):
        """Count this socket against its user's limit; False if over it."""
        self.counted_as = None
        limit = settings.LIVEBOARD_MAX_CONNECTIONS_PER_USER
        uid = self.me["id"]
        if not limit or uid is None:
            return True
        if self.connections_per_user.get(uid, 0) >= limit:
            return False
        self.connections_per_user[uid] = self.connections_per_user.get(uid, 0) + 1
        self.counted_as = uid
        return True

    async def disconnect(self, code):
        uid = getattr(self, "counted_as", None)
        if uid is not None:
            self.counted_as = None
            left = self.connections_per_user.get(uid, 1) - 1
            if left > 0:
                self.connections_per_user[uid] = left
            else:
                self.connections_per_user.pop(uid, None)
        for slug in list(getattr(self, "joined", {})):
            await self._leave_board(slug)

    # --- client frames ------------------------------------------------------

    async def close(self, code=None, reason=None):
        self.closing = True  # frames still in flight behind our close are not served
        await super().close(code=code, reason=reason)

    async def receive(self, text_data=None, bytes_data=None):
        if getattr(self, "closing", False):
            return
        if not self.bucket.take():
            await self._rate_limited()
            return
        self.strikes = 0
        if text_data is None:
            await self._send(wire.error("bad_request", "Binary frames are not supported; send JSON text"))
            return
        limit = settings.LIVEBOARD_MAX_FRAME_BYTES
        if len(text_data) * 4 > limit and len(text_data.encode("utf-8", "surrogatepass")) > limit:
            await self._send(wire.error("too_large", f"Frame is larger than {limit} bytes"))
            await self.close(code=CLOSE_TOO_BIG)
            return
        try:
            message = json.loads(text_data)
        except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
            await self._send(wire.error("bad_json", "Frame is not valid JSON"))
            return
        if not isinstance(message, dict):
            await self._send(wire.error("bad_request", "Frame must be a JSON object"))
            return
        ref = message.get("ref")
        if ref is not None and not (isinstance(ref, str) and len(ref) <= REF_MAX):
            await self._send(wire.error("bad_request", f"ref must be a string of at most {REF_MAX} characters"))
            return
        kind = message.get("type")
        if not isinstance(kind, str):
            await self._send(wire.error("bad_request", "type is required", ref))
            return
        handler = self.HANDLERS.get(kind)
        if handler is None:
            await self._send(wire.error("unknown_type", f"Unknown type: {kind[:64]}", ref))
            return
        try:
            await handler(self, message, ref)
        except LiveboardError as exc:
            await self._send(wire.error(exc.code, exc.message, ref, **exc.extra))
        except Exception:
            logger.exception("unhandled error in %s", kind)
            await self._send(wire.error("internal", "The server failed to handle this request; nothing was changed", ref))

    async def _rate_limited(self):
        self.strikes += 1
        if self.strikes > settings.LIVEBOARD_RATE_STRIKES:
            logger.warning("closing %s: kept flooding after rate_limited warnings", self.me["name"])
            await self.close(code=CLOSE_POLICY)
            return
        await self._send(wire.error("rate_limited", "Too many messages; slow down"))

    async def _send(self, frame):
        text = wire.dumps(frame)
        if not text.isascii():
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                # A reply that echoes client input (ref, an unknown field's
                # name) may hold a lone surrogate, which a real server cannot
                # put in a text frame; \u-escaped JSON says the same thing.
                text = json.dumps(frame, separators=(",", ":"), ensure_ascii=True)
        await self.send(text_data=text)

    def _validate(self, serializer_class, message):
        serializer = serializer_class(data=message)
        if not serializer.is_valid():
            raise BadRequest(validation.first_error(serializer.errors))
        return serializer.validated_data

    # --- handlers -------------------------------------------------------------

    async def on_join(self, message, ref):
        data = self._validate(validation.JoinMessage, message)
        slug = data["boardId"]
        since = data.get("since")
        already = slug in self.joined
        if not already and len(self.joined) >= settings.LIVEBOARD_MAX_BOARDS_PER_CONNECTION:
            raise BadRequest(f"A connection may join at most {settings.LIVEBOARD_MAX_BOARDS_PER_CONNECTION} boards")
        board = await _viewable_board(self.user, slug)
        if not already:
            # Join the group before reading the seq: anything committed after
            # the read then arrives live, anything before it is replayed.
            await self.channel_layer.group_add(broadcast.group_name(slug), self.channel_name)
            state = await self.presence.add(slug, self.channel_name, self.me)
        else:
            state = await self.presence.state(slug)
        try:
            seq, missed, resync = await _catch_up(board.pk, since, None if already else self.user)
        except Forbidden:
            await self.channel_layer.group_discard(broadcast.group_name(slug), self.channel_name)
            await self.presence.remove(slug, self.channel_name)  # never announced: undo quietly
            raise
        self.joined[slug] = max(seq, self.joined.get(slug, 0))
        self.presence_floor[slug] = max(state.version, self.presence_floor.get(slug, 0))
        await self._send(
            self._with_ref(
                {"type": "joined", "boardId": slug, "viewers": state.viewers, "users": state.users, "seq": seq}, ref
            )
        )
        if resync:
            await self._send(self._with_ref({"type": "resync_required", "boardId": slug, "seq": seq, "error": resync}, ref))
        for frame in missed:
            await self.send(text_data=wire.dumps(frame))
        if not already:
            await self._announce(slug, "user_joined", state, self.me)

    async def on_leave(self, message, ref):
        data = self._validate(validation.LeaveMessage, message)
        slug = data["boardId"]
        if slug not in self.joined:
            await self._send(wire.error("not_joined", f"Not joined to board {slug}", ref))
            return
        await self._leave_board(slug)
        await self._send(self._with_ref({"type": "left", "boardId": slug}, ref))

    async def on_ping(self, message, ref):
        self._validate(validation.PingMessage, message)
        seqs = await _current_seqs(list(self.joined)) if self.joined else {}
        await self._send(self._with_ref({"type": "pong", "seqs": seqs}, ref))

    async def on_create_task(self, message, ref):
        data = self._validate(validation.CreateTaskMessage, message)
        result = await _service(self.channel_name, services.create_task, self.user, data)
        await self._ack(ref, result, task=result["task"])

    async def on_move_task(self, message, ref):
        data = self._validate(validation.MoveTaskMessage, message)
        result = await _service(self.channel_name, services.change_task, self.user, data["taskId"], data)
        await self._ack(ref, result, task=result["task"])

    async def on_update_task(self, message, ref):
        data = self._validate(validation.UpdateTaskMessage, message)
        result = await _service(self.channel_name, services.change_task, self.user, data["taskId"], data)
        await self._ack(ref, result, task=result["task"])

    async def on_delete_task(self, message, ref):
        data = self._validate(validation.DeleteTaskMessage, message)
        result = await _service(
            self.channel_name, services.delete_task, self.user, data["taskId"], data.get("version")
        )
        await self._ack(ref, result, taskId=result["taskId"])

    HANDLERS = {
        "join": on_join,
        "leave": on_leave,
        "ping": on_ping,
        "create_task": on_create_task,
        "move_task": on_move_task,
        "update_task": on_update_task,
        "delete_task": on_delete_task,
    }

    async def _ack(self, ref, result, **body):
        frame = {"type": "ack", "ref": ref, "boardId": result["boardId"], "seq": result["seq"], **body}
        await self._send(frame)

    @staticmethod
    def _with_ref(frame, ref):
        if ref is not None:
            frame["ref"] = ref
        return frame

    # --- presence ---------------------------------------------------------------

    async def _leave_board(self, slug):
        self.joined.pop(slug, None)
        self.presence_floor.pop(slug, None)
        await self.channel_layer.group_discard(broadcast.group_name(slug), self.channel_name)
        user, state = await self.presence.remove(slug, self.channel_name)
        if user is not None:
            await self._announce(slug, "user_left", state, user)

    async def _announce(self, slug, kind, state, user):
        await broadcast.announce(slug, kind, state, user, exclude=self.channel_name)

    # --- channel-layer messages ---------------------------------------------

    def _event_text(self, message):
        """The board event's frame to forward, or None: it is this connection's
        own change, or the join's replay / snapshot already covered it."""
        floor = self.joined.get(message["board"])
        if floor is None or message.get("exclude") == self.channel_name:
            return None
        seq = message.get("seq")
        if seq is not None and seq <= floor:
            return None
        return message["text"]

    async def board_event(self, message):
        text = self._event_text(message)
        if text is not None:
            # Straight to the ASGI send (the hot path is dispatch_now, below).
            await self.base_send({"type": "websocket.send", "text": text})

    def dispatch_now(self, message):
        """board_event without a coroutine, where the server's send has a plain
        form (fastconsumer.sync_text_sender); anything else is dispatched as usual."""
        if message["type"] != "board.event" or self.send_text is None:
            return False
        text = self._event_text(message)
        if text is not None:
            self.send_text(text)
        return True

    async def board_presence(self, message):
        floor = self.presence_floor.get(message["board"])
        if floor is None or message.get("exclude") == self.channel_name:
            return
        if message.get("version", floor + 1) <= floor:
            return  # from before our join; `joined` already counted it
        await self.send(text_data=message["text"])

    async def board_access(self, message):
        """A membership or the board's visibility changed (boards.signals).

        Connections of the user concerned (`user_id`; None = everyone on the
        board) re-check that they may still view it; one that may not is
        taken out of the room (the others get user_left) and told.
        """
        slug = message["board"]
        if slug not in self.joined:
            return
        user_id = message.get("user_id")
        if user_id is not None and user_id != self.me["id"]:
            return
        if await _may_still_view(self.user, slug):
            return
        await self._leave_board(slug)
        await self._send(wire.error("forbidden", f"You may no longer view board {slug}", boardId=slug))
