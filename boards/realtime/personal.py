"""
The socket's server-wide and personal channels (SPEC §11), mixed into
BoardConsumer.

Every open socket joins the `everyone` group (announcements) and a
logged-in one its user's group (`user.<id>`: notifications, other tabs'
`notifications_read`, the end of the user's sessions), on whichever
process holds it — the channel layer spans processes, so a group_send
reaches every socket of the user everywhere. Anonymous sockets have no
personal group. Requests: `read_notifications` and `direct`.
"""

from channels.db import database_sync_to_async

from boards import notifications, validation, wire
from boards.errors import Forbidden
from boards.realtime import broadcast

CLOSE_SESSION_ENDED = 4401


@database_sync_to_async
def _mark_read(user, ids, everything, exclude):
    return notifications.mark_read(user, ids, everything, exclude)


@database_sync_to_async
def _send_direct(user, to, text):
    return notifications.send_direct(user, to, text)


@database_sync_to_async
def _still_signed_in(user, session_key):
    """False when the user was deactivated, deleted or logged out everywhere
    while this socket connected (the end-of-session frame may have gone
    before the socket was in the user's group)."""
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.models import Session

    if not get_user_model().objects.filter(pk=user.pk, is_active=True).exists():
        return False
    return session_key is None or Session.objects.filter(session_key=session_key).exists()


class PersonalHandlers:
    """`everyone` and `user.<id>` groups; read_notifications, direct."""

    async def join_personal_groups(self):
        """On connect: returns False when the user's sessions ended meanwhile (closed 4401)."""
        self.personal_groups = [broadcast.EVERYONE]
        if self.me["id"] is not None:
            self.personal_groups.append(broadcast.user_group(self.me["id"]))
        for group in self.personal_groups:
            await self.channel_layer.group_add(group, self.channel_name)
        if self.me["id"] is not None:
            session = self.scope.get("session")
            key = getattr(session, "session_key", None) if session is not None else None
            if not await _still_signed_in(self.user, key):
                await self.user_ended({"text": wire.dumps(wire.sessions_ended())})
                return False
        return True

    async def leave_personal_groups(self):
        for group in getattr(self, "personal_groups", ()):
            await self.channel_layer.group_discard(group, self.channel_name)
        self.personal_groups = []

    async def on_read_notifications(self, message, ref):
        if self.me["id"] is None:
            raise Forbidden("Log in to read notifications")
        data = self._validate(validation.ReadNotifications, message)
        unread = await _mark_read(self.user, data.get("ids"), data.get("all", False), self.channel_name)
        await self._send(wire.reply(ref, unread=unread))

    async def on_direct(self, message, ref):
        if self.me["id"] is None:
            raise Forbidden("Log in to send messages")
        data = self._validate(validation.DirectMessage, message)
        note = await _send_direct(self.user, data["to"], data["text"])
        await self._send(wire.reply(ref, notificationId=note.pk))

    HANDLERS = {"read_notifications": on_read_notifications, "direct": on_direct}

    # --- channel-layer messages -----------------------------------------------

    async def site_frame(self, message):
        """An announcement: to every socket."""
        await self.send(text_data=message["text"])

    async def user_frame(self, message):
        """A notification or `notifications_read`: to this user's sockets but `exclude`."""
        if message.get("exclude") != self.channel_name:
            await self.send(text_data=message["text"])

    async def user_ended(self, message):
        """The user was deactivated, deleted or logged out everywhere."""
        if getattr(self, "closing", False):
            return
        await self.send(text_data=message["text"])
        await self.close(code=CLOSE_SESSION_ENDED)
        for slug in list(self.joined):  # out of the rooms now, not when the server reports the close
            await self._leave_board(slug)
