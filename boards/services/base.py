"""
What every change of the services shares: locking the board row with the
user's role in one query, the role checks, and naming the acting user.

Each change runs in one transaction that locks the board row first, checks
permission (and a task's `version`) against the locked state, and lets the
model signals record and broadcast the event. `changes_as_user` marks the
transaction's events with their `actor` (boards.eventlog.acting_user).
"""

import functools

from django.contrib.auth import get_user_model
from django.db import router, transaction

from boards import eventlog
from boards.errors import BadRequest, Forbidden, NotFound
from boards.models import Board, List, Membership, Task, one_or_none
from boards.permissions import board_for_viewing, check_edit, with_role
from boards.tuning.statements import CompiledQuery
from boards.validation import MAX_ID

BOARD_COLUMNS = tuple(f.attname for f in Board._meta.concrete_fields)
TASK_COLUMNS = tuple(f.attname for f in Task._meta.concrete_fields)
LIST_COLUMNS = tuple(f.attname for f in List._meta.concrete_fields)


def changes_as_user(fn):
    """Run `fn(user, …)` in one transaction whose events name `user` as actor."""

    @functools.wraps(fn)
    def change(user, *args, **kwargs):
        with transaction.atomic(), eventlog.acting_user(user):
            return fn(user, *args, **kwargs)

    return change


def _lock_board_query(lookup):
    """The board matching `lookup`, locked, with the role of a user, as a CompiledQuery."""
    return CompiledQuery(
        lambda user_id, value: with_role(Board.objects.select_for_update(of=("self",)), user_id)
        .filter(**{lookup: value})
        .values_list(*BOARD_COLUMNS, "user_role"),
        int,
        int,
    )


LOCK_BOARD = _lock_board_query("pk")
LOCK_BOARD_OF_TASK = _lock_board_query("lists__tasks__pk")
_LOCK_TASK = CompiledQuery(
    lambda task_id: Task.objects.select_for_update(of=("self",))
    .filter(pk=task_id)
    .values_list(*TASK_COLUMNS, *(f"list__{name}" for name in LIST_COLUMNS)),
    int,
)


def locked_board_and_role(user, query, value):
    """Lock the board row; (board, the user's role) or None when there is no such board."""
    using = router.db_for_write(Board)
    user_id = user.pk if user is not None and user.is_authenticated else None
    rows = query.rows(user_id, value, using=using)
    if not rows:
        return None
    *columns, role = rows[0]
    return Board.from_db(using, BOARD_COLUMNS, columns), role


def locked_board(user, query, value):
    """Lock the board row and check `user` may edit it, in one query."""
    found = locked_board_and_role(user, query, value)
    if found is None:
        return None
    board, role = found
    check_edit(user, board, role)
    return board


def board_by_slug_for_change(user, slug, owner=False):
    """The board `slug`, locked; Forbidden unless the user may edit it (owner: own it)."""
    board = board_for_viewing(user, slug)  # NotFound / Forbidden before any lock
    found = locked_board_and_role(user, LOCK_BOARD, board.pk)
    if found is None:  # deleted meanwhile
        raise NotFound(f"Unknown board: {slug}")
    board, role = found
    if owner:
        check_own(user, board, role)
    else:
        check_edit(user, board, role)
    return board


def check_own(user, board, role):
    check_edit(user, board, role)  # viewers and strangers get the usual answer first
    if role != Membership.OWNER:
        raise Forbidden(f"Only an owner may change board {board.slug} and its members")


def task_for_change(user, task_id):
    """Lock the task's board, then the task; check the user may edit it.

    Its save()/delete() is then called with `board_locked=True`.
    """
    if not 0 < task_id <= MAX_ID:  # the ORM would match nothing; a driver may raise instead
        raise NotFound(f"Unknown task: {task_id}")
    board = locked_board(user, LOCK_BOARD_OF_TASK, task_id)
    if board is None:
        raise NotFound(f"Unknown task: {task_id}")
    using = router.db_for_write(Task)
    rows = _LOCK_TASK.rows(task_id, using=using)
    if not rows:  # deleted meanwhile
        raise NotFound(f"Unknown task: {task_id}")
    split = len(TASK_COLUMNS)
    task = Task.from_db(using, TASK_COLUMNS, rows[0][:split])
    lst = List.from_db(using, LIST_COLUMNS, rows[0][split:])
    if lst.board_id != board.pk:  # moved to another board meanwhile
        raise NotFound(f"Unknown task: {task_id}")
    lst.board = board  # the row just locked: no second read of it
    task.list = lst
    return board, task


def list_on_board(list_id, board):
    lst = one_or_none(List.objects.filter(pk=list_id).select_related("board"))
    if lst is None:
        raise NotFound(f"Unknown list: {list_id}")
    if lst.board_id != board.pk:
        raise BadRequest(f"List {list_id} is not on board {board.slug}", fields={"listId": ["Not on this board."]})
    return lst


def member_user(board, username, field="username"):
    """The User `username` if they are a member of `board`, else BadRequest."""
    user = one_or_none(get_user_model().objects.filter(username=username, memberships__board=board))
    if user is None:
        raise BadRequest(f"{username} is not a member of board {board.slug}", fields={field: ["Not a member of this board."]})
    return user
