"""
Task changes and board reads, as plain synchronous functions.

Both doors call these: the consumer (through database_sync_to_async) and the
REST views. Each change runs in one transaction that locks the board row
first, checks permission and `version` against the locked state, and lets
the model signals record and broadcast the event. Errors are raised as
boards.errors exceptions, before anything is written.
"""

from django.db import router, transaction

from . import wire
from .errors import BadRequest, Conflict, NotFound
from .models import Board, List, Task, one_or_none
from .permissions import board_for_viewing, check_edit, with_role
from .tuning.statements import CompiledQuery
from .validation import MAX_ID


def _result(task, event):
    return {"task": wire.task_dict(task), "seq": event.seq if event else None, "boardId": task.list.board.slug}


_BOARD_COLUMNS = tuple(f.attname for f in Board._meta.concrete_fields)
_TASK_COLUMNS = tuple(f.attname for f in Task._meta.concrete_fields)
_LIST_COLUMNS = tuple(f.attname for f in List._meta.concrete_fields)


def _lock_board_query(lookup):
    """The board matching `lookup`, locked, with the role of a user, as a CompiledQuery."""
    return CompiledQuery(
        lambda user_id, value: with_role(Board.objects.select_for_update(of=("self",)), user_id)
        .filter(**{lookup: value})
        .values_list(*_BOARD_COLUMNS, "user_role"),
        int,
        int,
    )


_LOCK_BOARD = _lock_board_query("pk")
_LOCK_BOARD_OF_TASK = _lock_board_query("lists__tasks__pk")
_LOCK_TASK = CompiledQuery(
    lambda task_id: Task.objects.select_for_update(of=("self",))
    .filter(pk=task_id)
    .values_list(*_TASK_COLUMNS, *(f"list__{name}" for name in _LIST_COLUMNS)),
    int,
)


def _locked_board(user, query, value):
    """Lock the board row and check `user` may edit it, in one query."""
    using = router.db_for_write(Board)
    user_id = user.pk if user is not None and user.is_authenticated else None
    rows = query.rows(user_id, value, using=using)
    if not rows:
        return None
    *columns, role = rows[0]
    board = Board.from_db(using, _BOARD_COLUMNS, columns)
    check_edit(user, board, role)
    return board


def _task_for_change(user, task_id):
    """Lock the task's board, then the task; check the user may edit it.

    Its save()/delete() is then called with `board_locked=True`.
    """
    if not 0 < task_id <= MAX_ID:  # the ORM would match nothing; a driver may raise instead
        raise NotFound(f"Unknown task: {task_id}")
    board = _locked_board(user, _LOCK_BOARD_OF_TASK, task_id)
    if board is None:
        raise NotFound(f"Unknown task: {task_id}")
    using = router.db_for_write(Task)
    rows = _LOCK_TASK.rows(task_id, using=using)
    if not rows:  # deleted meanwhile
        raise NotFound(f"Unknown task: {task_id}")
    split = len(_TASK_COLUMNS)
    task = Task.from_db(using, _TASK_COLUMNS, rows[0][:split])
    lst = List.from_db(using, _LIST_COLUMNS, rows[0][split:])
    if lst.board_id != board.pk:  # moved to another board meanwhile
        raise NotFound(f"Unknown task: {task_id}")
    lst.board = board  # the row just locked: no second read of it
    task.list = lst
    return board, task


def _list_on_board(list_id, board):
    lst = one_or_none(List.objects.filter(pk=list_id).select_related("board"))
    if lst is None:
        raise NotFound(f"Unknown list: {list_id}")
    if lst.board_id != board.pk:
        raise BadRequest(f"List {list_id} is not on board {board.slug}", fields={"listId": ["Not on this board."]})
    return lst


def _check_version(task, version):
    if version is not None and version != task.version:
        raise Conflict(
            f"Task {task.pk} is at version {task.version}, not {version}",
            task=wire.task_dict(task),
        )


def create_task(user, data):
    """data: a validated CreateTask. boardId is optional when listId says it."""
    with transaction.atomic():
        lst = one_or_none(List.objects.filter(pk=data["listId"]).select_related("board"))
        if lst is None:
            raise NotFound(f"Unknown list: {data['listId']}")
        if "boardId" in data and data["boardId"] != lst.board.slug:
            board_for_viewing(user, data["boardId"])  # unknown/foreign board errors first
            raise BadRequest(
                f"List {lst.pk} is not on board {data['boardId']}", fields={"listId": ["Not on this board."]}
            )
        board = _locked_board(user, _LOCK_BOARD, lst.board_id)
        if board is None:  # deleted meanwhile, with its lists
            raise NotFound(f"Unknown list: {data['listId']}")
        task = Task(
            list=lst,
            title=data["title"],
            description=data.get("description", ""),
            position=data.get("position"),
        )
        task.save(board_locked=True)
        return _result(task, task.last_event)


def change_task(user, task_id, data):
    """Move and/or edit a task. `version`, if given, must be current."""
    with transaction.atomic():
        board, task = _task_for_change(user, task_id)
        _check_version(task, data.get("version"))
        if "listId" in data and data["listId"] != task.list_id:
            task.list = _list_on_board(data["listId"], board)
        if "position" in data:
            task.position = data["position"]
        for field in ("title", "description"):
            if field in data:
                setattr(task, field, data[field])
        task.save(board_locked=True)
        return _result(task, task.last_event)


def delete_task(user, task_id, version=None):
    with transaction.atomic():
        board, task = _task_for_change(user, task_id)
        _check_version(task, version)
        task.delete(board_locked=True)
        event = task.last_event
        return {"taskId": task_id, "seq": event.seq if event else None, "boardId": board.slug}


def task_for_viewing(user, task_id):
    task = one_or_none(Task.objects.select_related("list__board").filter(pk=task_id))
    if task is None:
        raise NotFound(f"Unknown task: {task_id}")
    board_for_viewing(user, task.list.board.slug)
    return {**wire.task_dict(task), "boardId": task.list.board.slug}


def board_snapshot(user, slug):
    """The board as it is now, with the seq it is current to."""
    with transaction.atomic():  # one consistent read of tasks and seq
        board = board_for_viewing(user, slug)
        lists = list(board.lists.order_by("position", "id"))
        tasks = Task.objects.filter(list__board=board).order_by("list__position", "list_id", "position", "id")
        return {
            "id": board.slug,
            "name": board.name,
            "visibility": board.visibility,
            "seq": board.last_seq,
            "lists": [wire.list_dict(lst) for lst in lists],
            "tasks": [wire.task_dict(task) for task in tasks],
        }
