"""
send_event: the one doorway from Django to the realtime side.

Whatever changed a board — a socket, the REST API, the admin, a shell — ends
here after its transaction commits. The frame is serialised once and handed
to the channel layer as text; each consumer only forwards it (or drops it if
it is the connection that made the change).

The rule (as zulip's `send_event`): synchronous Django code — models,
signals, services, views, admin, management commands — never touches the
channel layer itself. It calls a function of this module, and only from an
on_commit callback, so nothing is ever sent for a rolled-back change:
`send_event` from boards.eventlog.record (board events), `send_access_check`
and `send_board_deleted` from boards.signals (memberships, visibility, a
deleted board). Realtime code (consumers,
presence) may await `send_presence` and the layer directly.
"""

from channels.layers import get_channel_layer

from boards import wire
from boards.realtime import outbox


def group_name(board_slug):
    return f"board.{board_slug}"


def event_message(board_slug, frame, exclude=None, text=None):
    """The channel-layer message that carries a board event to consumers."""
    message = {
        "type": "board.event",
        "board": board_slug,
        "seq": frame.get("seq"),
        "text": wire.dumps(frame) if text is None else text,
        "exclude": exclude,
    }
    if frame.get("type") == "task_deleted":
        message["task_gone"] = frame.get("taskId")  # its editing marks go too (realtime/editing.py)
    return message


def send_event(board_slug, frame, exclude=None, text=None):
    """Broadcast `frame` to everyone on the board except channel `exclude`.

    Called from synchronous code (on_commit callbacks run on the thread that
    committed); boards.realtime.outbox sends it from the event loop in commit order,
    without holding up that thread. A broken layer must not break the
    request that made the change: the event is already in the log and
    clients recover it by seq.
    """
    layer = get_channel_layer()
    if layer is None:
        return
    what = f"{frame.get('type')} seq={frame.get('seq')} on {board_slug}"
    outbox.post(layer.group_send, group_name(board_slug), event_message(board_slug, frame, exclude, text), what=what)


def send_access_check(board_slug, user_id=None):
    """Ask the board's connections of `user_id` (None: all) to re-check access.

    Sent after a membership is removed or moved, or a board turns private
    (boards.signals); each consumer re-reads its permission and leaves the
    board with a `forbidden` error if it lost it — on every process, since
    this goes through the channel layer like any event.
    """
    layer = get_channel_layer()
    if layer is None:
        return
    message = {"type": "board.access", "board": board_slug, "user_id": user_id}
    outbox.post(layer.group_send, group_name(board_slug), message, what=f"access re-check for {user_id} on {board_slug}")


def send_board_deleted(board_slug, frame):
    """Tell everyone on a deleted board, on every process; each connection
    sends `frame` (wire.board_deleted) and is out of the room."""
    layer = get_channel_layer()
    if layer is None:
        return
    message = {"type": "board.deleted", "board": board_slug, "text": wire.dumps(frame)}
    outbox.post(layer.group_send, group_name(board_slug), message, what=f"board_deleted {board_slug}")


def presence_message(board_slug, frame, version, exclude=None):
    return {
        "type": "board.presence",
        "board": board_slug,
        "version": version,
        "text": wire.dumps(frame),
        "exclude": exclude,
    }


async def send_presence(board_slug, frame, version, exclude=None):
    await get_channel_layer().group_send(group_name(board_slug), presence_message(board_slug, frame, version, exclude))


# --- beyond the board room (SPEC §11): everyone, one user -----------------------------
# Same rule as above: called from on_commit callbacks only (boards.notifications,
# boards.accounts), so a rolled-back change sends nothing.

EVERYONE = "everyone"  # every open WebSocket on every process joins it (boards.realtime.personal)


def user_group(user_id):
    """Every open socket (and SSE stream) of one logged-in user, on every process."""
    return f"user.{int(user_id)}"


def send_to_everyone(frame):
    """One frame to every open WebSocket, joined to a board or not (announcements)."""
    layer = get_channel_layer()
    if layer is None:
        return
    message = {"type": "site.frame", "text": wire.dumps(frame)}
    outbox.post(layer.group_send, EVERYONE, message, what=f"{frame.get('type')} to everyone")


def send_to_user(user_id, frame, exclude=None):
    """One frame to every socket of `user_id` except channel `exclude` (notifications)."""
    layer = get_channel_layer()
    if layer is None:
        return
    message = {"type": "user.frame", "text": wire.dumps(frame), "exclude": exclude}
    outbox.post(layer.group_send, user_group(user_id), message, what=f"{frame.get('type')} to user {user_id}")


def send_sessions_ended(user_id):
    """Every socket of `user_id` gets the forbidden error and closes 4401; SSE streams end."""
    layer = get_channel_layer()
    if layer is None:
        return
    message = {"type": "user.ended", "text": wire.dumps(wire.sessions_ended())}
    outbox.post(layer.group_send, user_group(user_id), message, what=f"sessions of user {user_id} ended")


async def send_ephemeral(board_slug, frame, exclude=None):
    """A frame to the board's room that is no event: no seq, not logged, not
    replayed (editing marks, SPEC §11); only sockets joined to the board forward it."""
    message = {"type": "board.presence", "board": board_slug, "text": wire.dumps(frame), "exclude": exclude}
    await get_channel_layer().group_send(group_name(board_slug), message)
