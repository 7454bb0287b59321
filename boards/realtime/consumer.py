"""
BoardConsumer: one WebSocket, many boards (SPEC §4).

The connection's life (accept, limits, close), reading client frames
(size, rate, JSON, `ref`, dispatch by `type`) and sending replies. What a
frame does lives in a handler mixin: rooms.py (`join`/`leave`/`ping`,
presence, the board group's messages), taskops.py (task changes) and
listops.py (column changes).
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
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.contrib.auth.models import AnonymousUser

from boards import validation, wire
from boards.errors import BadRequest, LiveboardError
from boards.realtime.editing import EditingHandlers
from boards.realtime.listops import ListHandlers
from boards.realtime.personal import PersonalHandlers
from boards.realtime.presence import get_presence
from boards.realtime.ratelimit import TokenBucket
from boards.realtime.rooms import RoomHandlers
from boards.realtime.status import StatusHandlers
from boards.realtime.taskops import TaskHandlers
from boards.tuning.fastconsumer import LeanDispatchMixin

logger = logging.getLogger(__name__)

REF_MAX = 64

# Close codes (SPEC §4).
CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009


class BoardConsumer(
    LeanDispatchMixin, RoomHandlers, TaskHandlers, ListHandlers,
    PersonalHandlers, StatusHandlers, EditingHandlers,  # SPEC §11: personal.py, status.py, editing.py
    AsyncWebsocketConsumer,
):
    # Client frame `type` → handler; each mixin brings its own (rooms.py, taskops.py, listops.py, …).
    HANDLERS = {**RoomHandlers.HANDLERS, **TaskHandlers.HANDLERS, **ListHandlers.HANDLERS}
    HANDLERS.update({**PersonalHandlers.HANDLERS, "status": StatusHandlers.on_status, "editing": EditingHandlers.on_editing})

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
            return
        await self.join_personal_groups()  # everyone + the user's group (personal.py)

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
        await self.leave_personal_groups()

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
            await self.note_frame()  # lastSeen (status.py), throttled
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

