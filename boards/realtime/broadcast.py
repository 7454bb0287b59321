"""
send_event: the one doorway from Django to the realtime side.

Whatever changed a board — a socket, the REST API, the admin, a shell — ends
here after its transaction commits. The frame is serialised once and handed
to the channel layer as text; each consumer only forwards it (or drops it if
it is the connection that made the change).
"""

from channels.layers import get_channel_layer

from boards import wire
from boards.realtime import outbox


def group_name(board_slug):
    return f"board.{board_slug}"


def event_message(board_slug, frame, exclude=None):
    """The channel-layer message that carries a board event to consumers."""
    return {
        "type": "board.event",
        "board": board_slug,
        "seq": frame.get("seq"),
        "text": wire.dumps(frame),
        "exclude": exclude,
    }


def send_event(board_slug, frame, exclude=None):
    """Broadcast `frame` to everyone on the board except channel `exclude`.

    Called from synchronous code (on_commit callbacks run on the thread that
    committed); boards.outbox sends it from the event loop in commit order,
    without holding up that thread. A broken layer must not break the
    request that made the change: the event is already in the log and
    clients recover it by seq.
    """
    layer = get_channel_layer()
    if layer is None:
        return
    what = f"{frame.get('type')} seq={frame.get('seq')} on {board_slug}"
    outbox.post(layer.group_send, group_name(board_slug), event_message(board_slug, frame, exclude), what=what)


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


async def announce(board_slug, kind, state, user, exclude=None):
    """Tell a board's room that `user` arrived or left.

    Quiet boards get a `user_joined`/`user_left` frame now; busy ones get
    the change in the next coalesced `presence` frame (boards.presence_batch).
    """
    from boards.realtime.presence import get_batcher
    from boards.realtime.presence.batch import is_busy

    if is_busy(state):
        await get_batcher().note(board_slug, "joined" if kind == "user_joined" else "left", user)
        return
    frame = {"type": kind, "boardId": board_slug, "viewers": state.viewers, "user": user}
    await send_presence(board_slug, frame, state.version, exclude)


async def announce_departure(board_slug, user, state):
    """A connection of a dead process was swept from presence."""
    await announce(board_slug, "user_left", state, user)
