"""
The shapes that go over the wire (SPEC §4), in one place.

Every producer — consumer replies, broadcasts, the REST API, replay — builds
its JSON from these functions, so a task looks the same everywhere.
"""

import json

ANONYMOUS = {"id": None, "name": "anonymous"}


def task_dict(task):
    return {
        "id": task.pk,
        "listId": task.list_id,
        "title": task.title,
        "description": task.description,
        "position": task.position,
        "version": task.version,
    }


def user_dict(user):
    if user is None or not getattr(user, "is_authenticated", False):
        return dict(ANONYMOUS)
    return {"id": user.pk, "name": user.get_username()}


def dumps(frame):
    """Compact JSON, as sent on sockets and stored for replay."""
    return json.dumps(frame, separators=(",", ":"), ensure_ascii=False)


def error(code, message, ref=None, **extra):
    frame = {"type": "error", "code": code, "error": message}
    frame.update(extra)
    if ref is not None:
        frame["ref"] = ref
    return frame
