"""Short and long polling: GET /api/boards/<id>/events (SPEC §6); see boards.realtime.polling."""

import asyncio
from urllib.parse import parse_qs

from channels.exceptions import StopConsumer

from boards.realtime import polling
from boards.realtime.httpconsumer import BoardHttpConsumer, _events_body, _may_view, _viewable


class LongPollConsumer(BoardHttpConsumer):
    """GET /api/boards/<id>/events — short and long polling (boards/realtime/polling.py).

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

    async def board_deleted(self, message):
        if self.waiting and message.get("board") == self.slug and await self._answer():  # now a 404
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
