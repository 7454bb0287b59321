"""
Presence status (SPEC §11), mixed into BoardConsumer: `status` sets this
connection's status (`active` | `away`; new connections are active) on
every board it has joined; a user's status on a board is `active` if any
of their connections there is. Only a change of that combined status is
told to the room — `status_changed` on a quiet board, the coalesced
`presence` frame's `changed` on a busy one (presence/announce.py) — so one
tab going away while another stays active sends nothing, and N viewers
going away together on a busy board cost one frame per viewer per
interval, not N².

The statuses live in the presence store (per connection, and per user a
count of active connections and their lastSeen), so they are shared by
every process and swept with a dead process's entries. `lastSeen` is the
time of the user's last status or frame on the board, written at most once
per LIVEBOARD_LAST_SEEN_INTERVAL per socket (not one Redis write per frame).
"""

import time

from django.conf import settings

from boards import validation, wire
from boards.errors import Forbidden
from boards.realtime.presence import get_announcer
from boards.realtime.presence.state import ACTIVE, AWAY


class StatusHandlers:
    """`status` requests; statuses through leaves; lastSeen."""

    status = ACTIVE
    seen_at = 0.0

    async def on_status(self, message, ref):
        if self.me["id"] is None:
            raise Forbidden("Log in to set a status")
        status = self._validate(validation.StatusMessage, message)["status"]
        self.status = status
        self.seen_at = time.monotonic()
        for slug in list(self.joined):
            got = await self.presence.set_status(slug, self.channel_name, status)
            if got is not None and got[1]:
                _, _, entry, version, viewers = got
                await get_announcer().status_changed(slug, viewers, entry, version, exclude=self.channel_name)
        await self._send(wire.reply(ref, status=status))

    async def status_after_leave(self, slug, user, state):
        """This connection left `slug`: if it was its user's last active one there, the user is now away."""
        if self.status != ACTIVE or user.get("id") is None:
            return
        entry = next((u for u in state.users if u["id"] == user["id"]), None)
        if entry is not None and entry["status"] == AWAY:
            await get_announcer().status_changed(slug, state.viewers, entry, state.version, exclude=self.channel_name)

    async def note_frame(self):
        """A frame from this socket: refresh its user's lastSeen on its boards, throttled."""
        if self.me["id"] is None or not self.joined:
            return
        now = time.monotonic()
        if now - self.seen_at < settings.LIVEBOARD_LAST_SEEN_INTERVAL:
            return
        self.seen_at = now
        for slug in list(self.joined):
            await self.presence.touch(slug, self.me["id"])
