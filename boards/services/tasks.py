"""
Task changes and board reads, as plain synchronous functions.

Both doors call these: the consumer (through database_sync_to_async) and the
REST views. Errors are raised as boards.errors exceptions, before anything
is written (boards/services/base.py has the transaction's shape).
"""

from django.db import transaction

from boards import wire
from boards.errors import BadRequest, Conflict, NotFound
from boards.models import List, Membership, Task, one_or_none
from boards.permissions import board_for_viewing

from .base import LOCK_BOARD, changes_as_user, list_on_board, locked_board, member_user, task_for_change


def _result(task, event):
    return {"task": wire.task_dict(task), "seq": event.seq if event else None, "boardId": task.list.board.slug}


def _set_assignee(task, board, data):
    """`assignee` (a username or None) from the request; a member of the board."""
    if "assignee" not in data:
        return
    username = data["assignee"]
    task.assignee = None if username is None else member_user(board, username, field="assignee")


def _check_version(task, version):
    if version is not None and version != task.version:
        raise Conflict(
            f"Task {task.pk} is at version {task.version}, not {version}",
            task=wire.task_dict(task),
        )


@changes_as_user
def create_task(user, data):
    """data: a validated CreateTask. boardId is optional when listId says it."""
    lst = one_or_none(List.objects.filter(pk=data["listId"]).select_related("board"))
    if lst is None:
        raise NotFound(f"Unknown list: {data['listId']}")
    if "boardId" in data and data["boardId"] != lst.board.slug:
        board_for_viewing(user, data["boardId"])  # unknown/foreign board errors first
        raise BadRequest(
            f"List {lst.pk} is not on board {data['boardId']}", fields={"listId": ["Not on this board."]}
        )
    board = locked_board(user, LOCK_BOARD, lst.board_id)
    if board is None:  # deleted meanwhile, with its lists
        raise NotFound(f"Unknown list: {data['listId']}")
    task = Task(
        list=lst,
        title=data["title"],
        description=data.get("description", ""),
        position=data.get("position"),
    )
    lst.board = board
    _set_assignee(task, board, data)
    task.save(board_locked=True)
    return _result(task, task.last_event)


@changes_as_user
def change_task(user, task_id, data):
    """Move and/or edit a task. `version`, if given, must be current."""
    board, task = task_for_change(user, task_id)
    _check_version(task, data.get("version"))
    if "listId" in data and data["listId"] != task.list_id:
        task.list = list_on_board(data["listId"], board)
    if "position" in data:
        task.position = data["position"]
    for field in ("title", "description"):
        if field in data:
            setattr(task, field, data[field])
    _set_assignee(task, board, data)
    task.save(board_locked=True)
    return _result(task, task.last_event)


@changes_as_user
def delete_task(user, task_id, version=None):
    board, task = task_for_change(user, task_id)
    _check_version(task, version)
    task.delete(board_locked=True)
    event = task.last_event
    return {"taskId": task_id, "seq": event.seq if event else None, "boardId": board.slug}


def task_for_viewing(user, task_id):
    task = one_or_none(Task.objects.select_related("list__board", "assignee").filter(pk=task_id))
    if task is None:
        raise NotFound(f"Unknown task: {task_id}")
    board_for_viewing(user, task.list.board.slug)
    return {**wire.task_dict(task), "boardId": task.list.board.slug}


def board_snapshot(user, slug):
    """The board as it is now, with the seq it is current to."""
    with transaction.atomic():  # one consistent read of tasks and seq
        board = board_for_viewing(user, slug)
        lists = list(board.lists.order_by("position", "id"))
        tasks = (
            Task.objects.filter(list__board=board)
            .select_related("assignee")
            .order_by("list__position", "list_id", "position", "id")
        )
        return {
            "id": board.slug,
            "name": board.name,
            "visibility": board.visibility,
            "seq": board.last_seq,
            "lists": [wire.list_dict(lst) for lst in lists],
            "tasks": [wire.task_dict(task) for task in tasks],
            "members": members_of(board),
        }


def members_of(board):
    """The board's members, owners first, then by name (SPEC §12)."""
    rank = {Membership.OWNER: 0, Membership.EDITOR: 1, Membership.VIEWER: 2}
    rows = Membership.objects.filter(board=board).select_related("user")
    rows = sorted(rows, key=lambda m: (rank.get(m.role, 3), m.user.get_username()))
    return [wire.member_dict(m.user, m.role) for m in rows]
