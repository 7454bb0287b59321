"""
The board's activity (SPEC §12): the event log read back as sentences,
newest first — "bob moved "Write the README" to Done".

Built from the BoardEvent rows, not a table of its own: the log already
holds every change with its actor, and its `details` keep what a frame does
not (a deleted task's title, a renamed column's old name, which fields an
edit changed). Column names are today's (one query per page); a column
deleted since reads "a deleted column". Pruned events (prune_events) drop
out of the activity with the log.
"""

import json

from . import wire
from .models import BoardEvent, List
from .permissions import board_for_viewing

DEFAULT_LIMIT = 50
MAX_LIMIT = 200

_ROLE_ARTICLE = {"owner": "an owner", "editor": "an editor", "viewer": "a viewer"}


def activity(user, slug, before=None, limit=DEFAULT_LIMIT):
    """{"activity": [...newest first], "more": bool} for the events with seq < `before`."""
    board = board_for_viewing(user, slug)
    limit = max(1, min(limit or DEFAULT_LIMIT, MAX_LIMIT))
    rows = BoardEvent.objects.filter(board=board).order_by("-seq")
    if before is not None:
        rows = rows.filter(seq__lt=before)
    rows = [
        (seq, kind, json.loads(frame), details, created)
        for seq, kind, frame, details, created in rows.values_list("seq", "type", "frame", "details", "created")[: limit + 1]
    ]
    more, rows = len(rows) > limit, rows[:limit]
    names = _list_names(rows)
    return {
        "activity": [
            wire.activity_entry(seq, kind, payload.get("actor"), created, sentence(kind, payload, details, names))
            for seq, kind, payload, details, created in rows
        ],
        "more": more,
    }


def _list_names(rows):
    ids = set()
    for _seq, _kind, payload, details, _created in rows:
        task = payload.get("task") or {}
        ids.update(x for x in (task.get("listId"), (details or {}).get("from")) if isinstance(x, str))
    return dict(List.objects.filter(pk__in=ids).values_list("pk", "name"))


def _quoted(text):
    text = text if len(text) <= 60 else text[:59] + "…"
    return f"\u201c{text}\u201d"


def sentence(kind, payload, details, names):
    """One human sentence for an event, e.g. 'bob moved “Write the README” to Done'."""
    details = details or {}
    who = (payload.get("actor") or {}).get("name") or "Someone"
    task = payload.get("task") or {}
    column = names.get(task.get("listId"), "a deleted column")
    title = _quoted(task.get("title", ""))
    if kind == "task_created":
        return f"{who} added {title} to {column}"
    if kind == "task_moved":
        if details.get("from") == task.get("listId"):
            return f"{who} reordered {title} in {column}"
        return f"{who} moved {title} to {column}"
    if kind == "task_updated":
        return _task_edit(who, title, task, details.get("changed") or [])
    if kind == "task_deleted":
        return f"{who} deleted {_quoted(details.get('title', 'a task'))}"
    lst = payload.get("list") or {}
    if kind == "list_created":
        return f"{who} added the column {_quoted(lst.get('name', ''))}"
    if kind == "list_updated":
        return f"{who} renamed the column {_quoted(details.get('from') or '')} to {_quoted(lst.get('name', ''))}"
    if kind == "list_moved":
        return f"{who} moved the column {_quoted(lst.get('name', ''))}"
    if kind == "list_deleted":
        return f"{who} deleted the column {_quoted(details.get('name', ''))}"
    if kind == "board_updated":
        board = payload.get("board") or {}
        if details.get("name") not in (None, board.get("name")):
            return f"{who} renamed the board to {_quoted(board.get('name', ''))}"
        return f"{who} made the board {board.get('visibility')}"
    if kind in ("member_added", "member_updated"):
        member = payload.get("member") or {}
        name = (member.get("user") or {}).get("name", "someone")
        role = _ROLE_ARTICLE.get(member.get("role"), member.get("role"))
        verb = f"added {name} as" if kind == "member_added" else f"made {name}"
        return f"{who} {verb} {role}"
    if kind == "member_removed":
        name = (payload.get("user") or {}).get("name", "someone")
        if name == who:
            return f"{who} left the board"
        return f"{who} removed {name}"
    return f"{who} changed the board"


def _task_edit(who, title, task, changed):
    if "assignee_id" in changed:
        assignee = (task.get("assignee") or {}).get("name")
        if assignee is None:
            return f"{who} unassigned {title}"
        if assignee == who:
            return f"{who} took {title}"
        return f"{who} assigned {title} to {assignee}"
    if "title" in changed:
        return f"{who} renamed a task to {title}"
    if "description" in changed:
        return f"{who} edited the description of {title}"
    return f"{who} edited {title}"
