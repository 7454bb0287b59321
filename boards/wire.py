"""
Every frame that goes over the wire (SPEC §4, §6), built in one place.

Every producer — consumer replies, broadcasts, presence, the SSE and polling
doors, the REST API, replay — builds its JSON from these functions, so a
frame looks the same wherever it comes from. A new frame gets a builder
here, named after its `type`; nothing else writes a `{"type": …}` literal
for the client.
"""

import json

ANONYMOUS = {"id": None, "name": "anonymous"}


# --- objects inside frames ----------------------------------------------------


def task_dict(task):
    return {
        "id": task.pk,
        "listId": task.list_id,
        "title": task.title,
        "description": task.description,
        "position": task.position,
        "version": task.version,
        # No query for the usual unassigned task; an assigned one's user is
        # loaded once (select_related where a service already has it).
        "assignee": None if task.assignee_id is None else user_dict(task.assignee),
    }


def user_dict(user):
    if user is None or not getattr(user, "is_authenticated", False):
        return dict(ANONYMOUS)
    return {"id": user.pk, "name": user.get_username()}


def list_dict(lst):
    return {"id": lst.pk, "name": lst.name, "position": lst.position}


def board_dict(board):
    """The board as board_updated carries it (SPEC §12)."""
    return {"id": board.slug, "name": board.name, "visibility": board.visibility}


def member_dict(user, role):
    return {"user": user_dict(user), "role": role}


def dumps(frame):
    """Compact JSON, as sent on sockets and stored for replay."""
    return json.dumps(frame, separators=(",", ":"), ensure_ascii=False)


def with_ref(frame, ref):
    """The reply to a request carries the request's `ref` (SPEC §4)."""
    if ref is not None:
        frame["ref"] = ref
    return frame


# --- replies to the sender ----------------------------------------------------


def error(code, message, ref=None, **extra):
    frame = {"type": "error", "code": code, "error": message}
    frame.update(extra)
    return with_ref(frame, ref)


def joined(board, seq, viewers=None, users=None, ref=None, editing=None):
    """A WebSocket join's reply; the SSE stream's first event has no presence.
    `editing`: the board's current editing marks (SPEC §11), WebSocket only."""
    frame = {"type": "joined", "boardId": board, "seq": seq}
    if viewers is not None:
        frame = {"type": "joined", "boardId": board, "viewers": viewers, "users": users, "seq": seq}
    if editing is not None:
        frame["editing"] = editing
    return with_ref(frame, ref)


def left(board, ref=None):
    return with_ref({"type": "left", "boardId": board}, ref)


def pong(seqs, ref=None):
    return with_ref({"type": "pong", "seqs": seqs}, ref)


def ack(ref, board, seq, **body):
    return {"type": "ack", "ref": ref, "boardId": board, "seq": seq, **body}


def resync_required(board, seq, reason, ref=None):
    return with_ref({"type": "resync_required", "boardId": board, "seq": seq, "error": reason}, ref)


def evicted(board):
    """The connection lost its access to a board it had joined (SPEC §7)."""
    return error("forbidden", f"You may no longer view board {board}", boardId=board)


# --- to the room ----------------------------------------------------------------


def board_event(event_type, board_slug, seq, actor=None, **payload):
    """A logged board event (task_*, list_*, board_updated, member_*), live and
    replayed alike; `actor` is who made it ({"id","name"}) or None."""
    return {"type": event_type, "boardId": board_slug, "seq": seq, **payload, "actor": actor}


def board_deleted(board, actor=None):
    """The board is gone: sent to everyone on it, who are then out of the room."""
    return {"type": "board_deleted", "boardId": board, "actor": actor}


def presence_change(kind, board, viewers, user):
    """`user_joined` / `user_left` on a quiet board."""
    return {"type": kind, "boardId": board, "viewers": viewers, "user": user}


def presence_batch(board, viewers, joined_users, left_users, changed_users=None):
    """The coalesced `presence` frame of a busy board (SPEC §4); `changed`:
    users whose status changed in the interval (SPEC §11), only when some did."""
    frame = {"type": "presence", "boardId": board, "viewers": viewers, "joined": joined_users, "left": left_users}
    if changed_users:
        frame["changed"] = changed_users
    return frame


# --- HTTP bodies ------------------------------------------------------------------


def rest_error(exc):
    """A domain error (boards.errors) as the REST API shows it: (status, body)."""
    body = {"detail": exc.message, "code": exc.code}
    body.update(getattr(exc, "fields", None) or {})
    body.update(exc.extra)
    return exc.status, body


def events_page(frames, seq, more=False):
    """GET /api/boards/<id>/events: a page of frames and the board's seq."""
    body = {"events": frames, "seq": seq}
    if more:
        body["more"] = True
        body["last"] = frames[-1]["seq"]
    return body


def activity_entry(seq, kind, actor, at, text):
    """One line of GET /api/boards/<id>/activity (SPEC §12)."""
    return {"seq": seq, "type": kind, "actor": actor, "at": at.isoformat().replace("+00:00", "Z"), "text": text}


def events_resync(seq, reason):
    """GET /api/boards/<id>/events when the events are no longer kept (409)."""
    return {"type": "resync_required", "detail": reason, "events": [], "seq": seq}


# --- beyond the board room (SPEC §11) ------------------------------------------------


def iso(when):
    """A datetime as the wire writes it: ISO 8601, UTC as `Z`."""
    return when.isoformat().replace("+00:00", "Z")


def announcement(ann):
    return {"type": "announcement", "id": ann.pk, "text": ann.text, "level": ann.level, "sentAt": iso(ann.created)}


def notification_dict(note, actor=None):
    """`actor`: the actor's {"id","name"} when already known (no query)."""
    if actor is None and note.actor_id is not None:
        actor = user_dict(note.actor)
    return {
        "id": note.pk,
        "kind": note.kind,
        "text": note.text,
        "boardId": note.board_slug,
        "taskId": note.task_id,
        "actor": actor,
        "createdAt": iso(note.created),
        "read": note.read,
    }


def notification(note, actor=None):
    return {"type": "notification", "notification": notification_dict(note, actor)}


def notifications_read(ids, unread):
    """To a user's other sockets: `ids` (a list) or "all" were marked read."""
    return {"type": "notifications_read", "ids": ids, "unread": unread}


def reply(ref, **body):
    """The `ack` of a request that is not a board change (SPEC §11)."""
    return with_ref({"type": "ack", **body}, ref)


def sessions_ended():
    """The last frame of a socket whose user was deactivated, deleted or logged out everywhere."""
    return error("forbidden", "Your session has ended; log in again")


def status_user(user, status, last_seen):
    return {"id": user["id"], "name": user["name"], "status": status, "lastSeen": last_seen}


def status_changed(board, user):
    return {"type": "status_changed", "boardId": board, "user": user}


def editing(board, task_id, user, is_editing):
    return {"type": "editing", "boardId": board, "taskId": task_id, "user": user, "editing": is_editing}


def editing_mark(task_id, user):
    """One entry of `joined`'s "editing" list."""
    return {"taskId": task_id, "user": user}
