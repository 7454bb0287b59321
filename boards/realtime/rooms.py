"""
The room side of BoardConsumer: join, leave, ping, presence, and the
channel-layer messages a board's group carries (events, presence, access
re-checks). Mixed into boards.realtime.consumer.BoardConsumer.

Join order matters: the socket joins the board's group before the board's
seq is read, so anything committed after the read arrives live and anything
before it is replayed; live frames at or below that floor are dropped.
"""

from channels.db import database_sync_to_async
from django.conf import settings

from boards import permissions, validation, wire
from boards.errors import BadRequest, LiveboardError
from boards.models import Board
from boards.realtime import broadcast, catchup
from boards.realtime.presence import get_announcer


@database_sync_to_async
def _may_still_view(user, slug):
    board = Board.objects.filter(slug=slug).first()
    return board is None or permissions.can_view(user, board)  # a deleted board is not a revocation


@database_sync_to_async
def _current_seqs(slugs):
    return dict(Board.objects.filter(slug__in=slugs).values_list("slug", "last_seq"))


class RoomHandlers:
    """join / leave / ping and the board group's messages."""

    async def on_join(self, message, ref):
        data = self._validate(validation.JoinMessage, message)
        slug = data["boardId"]
        since = data.get("since")
        already = slug in self.joined
        if not already and len(self.joined) >= settings.LIVEBOARD_MAX_BOARDS_PER_CONNECTION:
            raise BadRequest(f"A connection may join at most {settings.LIVEBOARD_MAX_BOARDS_PER_CONNECTION} boards")
        catchup.check_slug(slug)
        if not already:
            # Join the group before reading the board and its seq (catchup.py):
            # anything committed after the read then arrives live, anything
            # before it is replayed — and a membership revoked meanwhile is seen.
            await self.channel_layer.group_add(broadcast.group_name(slug), self.channel_name)
            try:
                view = await catchup.join_read(slug, self.user, since)
            except LiveboardError:
                await self.channel_layer.group_discard(broadcast.group_name(slug), self.channel_name)
                raise  # never in presence, never announced
            state = await self.presence.add(slug, self.channel_name, self.me, self.status)
        else:
            view = await catchup.join_read(slug, self.user, since)
            state = await self.presence.state(slug)
        seq, missed, resync = view.seq, view.missed, view.resync
        self.joined[slug] = max(seq, self.joined.get(slug, 0))
        self.presence_floor[slug] = max(state.version, self.presence_floor.get(slug, 0))
        marks = await self.current_marks(slug)  # editing.py
        await self._send(wire.joined(slug, seq, state.viewers, state.users, ref, editing=marks))
        if resync:
            await self._send(wire.resync_required(slug, seq, resync, ref))
        for event in missed:
            await self.send(text_data=event.text)  # the stored text, as sent live
        if not already:
            await self._announce(slug, "user_joined", state, self.me)

    async def on_leave(self, message, ref):
        data = self._validate(validation.LeaveMessage, message)
        slug = data["boardId"]
        if slug not in self.joined:
            await self._send(wire.error("not_joined", f"Not joined to board {slug}", ref))
            return
        await self._leave_board(slug)
        await self._send(wire.left(slug, ref))

    async def on_ping(self, message, ref):
        self._validate(validation.PingMessage, message)
        seqs = await _current_seqs(list(self.joined)) if self.joined else {}
        await self._send(wire.pong(seqs, ref))

    HANDLERS = {"join": on_join, "leave": on_leave, "ping": on_ping}

    # --- presence ---------------------------------------------------------------

    async def _leave_board(self, slug):
        await self.drop_marks(slug)  # editing.py: the room hears editing:false
        self.joined.pop(slug, None)
        self.presence_floor.pop(slug, None)
        await self.channel_layer.group_discard(broadcast.group_name(slug), self.channel_name)
        user, state = await self.presence.remove(slug, self.channel_name)
        if user is not None:
            await self._announce(slug, "user_left", state, user)
            await self.status_after_leave(slug, user, state)  # status.py

    async def _announce(self, slug, kind, state, user):
        await get_announcer().announce(slug, kind, state, user, exclude=self.channel_name)

    # --- channel-layer messages ---------------------------------------------

    def _event_text(self, message):
        """The board event's frame to forward, or None: it is this connection's
        own change, or the join's replay / snapshot already covered it."""
        floor = self.joined.get(message["board"])
        if "task_gone" in message:
            self.task_gone(message["board"], message["task_gone"])  # editing.py
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

    async def board_deleted(self, message):
        """The board is gone (boards.signals): out of its room, and told."""
        slug = message["board"]
        if slug not in self.joined:
            return
        self.joined.pop(slug, None)
        self.presence_floor.pop(slug, None)
        await self.channel_layer.group_discard(broadcast.group_name(slug), self.channel_name)
        await self.presence.remove(slug, self.channel_name)  # everyone here is leaving: no user_left
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
        await self._send(wire.evicted(slug))
