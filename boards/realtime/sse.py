"""Server-Sent Events: GET /boards/<id>/events (SPEC §6); see boards.realtime.httpconsumer."""

import asyncio
import json
import logging
from urllib.parse import parse_qs

from channels.exceptions import StopConsumer
from django.conf import settings

from boards import wire
from boards.realtime import broadcast
from boards.realtime.httpconsumer import (
    BoardHttpConsumer,
    _board_seq,
    _catch_up,
    _may_view,
    _viewable,
    sse_message,
)
from boards.realtime.middleware import header

logger = logging.getLogger(__name__)

SSE_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-store"),
    (b"x-accel-buffering", b"no"),  # nginx: do not buffer the stream
    (b"x-content-type-options", b"nosniff"),
]
SSE_RETRY_MS = 3000


class BoardEventStream(BoardHttpConsumer):
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
        await self._join_user_group()
        seq, missed, resync = await _catch_up(board.pk, since)
        if seq is None:
            await self.respond(404, {"detail": f"Unknown board: {self.slug}", "code": "not_found"})
            await self.finish()
        self.last = seq
        joined = wire.dumps(wire.joined(self.slug, seq))
        head = f"retry: {SSE_RETRY_MS}\n".encode() + sse_message(joined, "joined", seq if since is None else None)
        await self.send_headers(status=200, headers=SSE_HEADERS)
        await self.send_body(head, more_body=True)
        if resync:
            await self._send_resync(seq, resync)
        for event in missed:
            await self.send_body(sse_message(event.text, event.type, event.seq), more_body=True)
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
        frame = wire.resync_required(self.slug, seq, reason)
        await self.send_body(sse_message(wire.dumps(frame), "resync_required", seq), more_body=True)

    async def _catch_up_to_log(self):
        """Send every logged event after `self.last` (caller holds the lock)."""
        seq, frames, resync = await _catch_up(self.board_pk, self.last)
        if seq is None:
            return False  # board deleted
        if resync:
            await self._send_resync(seq, resync)
            self.last = seq
        for event in frames:
            if event.seq > self.last:
                await self.send_body(sse_message(event.text, event.type, event.seq), more_body=True)
                self.last = event.seq
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
                await self.send_body(sse_message(message["text"], json.loads(message["text"])["type"], seq), more_body=True)
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
            frame = wire.evicted(self.slug)
            await self.send_body(sse_message(wire.dumps(frame), "error"), more_body=True)
            await self._end()

    async def board_deleted(self, message):
        """The board is gone: say so, and end the stream."""
        if self.group is None or message.get("board") != self.slug:
            return
        await self.send_body(sse_message(message["text"], "board_deleted"), more_body=True)
        await self._end()

    # --- the user's sessions ending (SPEC §11) -------------------------------------

    async def _join_user_group(self):
        """A logged-in reader's stream ends with their sessions (boards.accounts)."""
        self.user_group = None
        if getattr(self.user, "is_authenticated", False):
            self.user_group = broadcast.user_group(self.user.pk)
            await self.channel_layer.group_add(self.user_group, self.channel_name)

    async def leave_group(self):
        group, self.user_group = getattr(self, "user_group", None), None
        if group is not None:
            try:
                await self.channel_layer.group_discard(group, self.channel_name)
            except Exception:
                logger.warning("group_discard of %s from %s failed", self.channel_name, group, exc_info=True)
        await super().leave_group()

    async def user_ended(self, message):
        """Deactivated, deleted or logged out everywhere: say so, and end the stream."""
        if self.group is None:
            return
        await self.send_body(sse_message(message["text"], "error"), more_body=True)
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
