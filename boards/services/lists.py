"""
Column changes (SPEC §12): create, rename, move, delete — for editors and
owners, over the socket and REST alike.

List.save()/delete() keep the board's column positions 0..n-1 and the model
signals record `list_*` events in the board's one seq, like task changes.
"""


from boards import wire
from boards.errors import BadRequest, NotFound
from boards.models import List, Task
from boards.permissions import check_edit

from .base import LOCK_BOARD, board_by_slug_for_change, changes_as_user, locked_board_and_role

#: A board has at most this many columns: a page of 100 columns is unusable
#: already, and a client looping create_list must not grow a board forever.
MAX_LISTS_PER_BOARD = 100


def _result(lst, board):
    event = lst.last_event
    return {"list": wire.list_dict(lst), "seq": event.seq if event else None, "boardId": board.slug}


def _list_for_change(user, list_id):
    """The list and its board, the board row locked, the user allowed to edit it."""
    board_pk = List.objects.filter(pk=list_id).values_list("board_id", flat=True).first()
    found = board_pk and locked_board_and_role(user, LOCK_BOARD, board_pk)
    if not found:
        raise NotFound(f"Unknown list: {list_id}")
    board, role = found
    check_edit(user, board, role)
    lst = List.objects.filter(pk=list_id, board_id=board.pk).first()
    if lst is None:  # deleted (or moved) meanwhile
        raise NotFound(f"Unknown list: {list_id}")
    lst.board = board
    return board, lst


@changes_as_user
def create_list(user, data):
    board = board_by_slug_for_change(user, data["boardId"])
    if List.objects.filter(board=board).count() >= MAX_LISTS_PER_BOARD:
        raise BadRequest(f"A board has at most {MAX_LISTS_PER_BOARD} columns")
    lst = List(board=board, name=data["name"], position=data.get("position"))
    lst.save(board_locked=True)
    return _result(lst, board)


@changes_as_user
def change_list(user, list_id, data):
    """Rename and/or move a column (a move is list_moved, carrying the name too)."""
    board, lst = _list_for_change(user, list_id)
    if "name" in data:
        lst.name = data["name"]
    if "position" in data:
        lst.position = data["position"]
    lst.save(board_locked=True)
    return _result(lst, board)


@changes_as_user
def delete_list(user, list_id):
    """Delete an empty column; one with tasks is refused (move or delete them first)."""
    board, lst = _list_for_change(user, list_id)
    count = Task.objects.filter(list=lst).count()
    if count:
        raise BadRequest(
            f"Column {lst.name!r} still has {count} task{'s' if count != 1 else ''}; move or delete them first",
            fields={"listId": ["The column is not empty."]},
        )
    lst.delete()
    event = lst.last_event
    return {"listId": list_id, "seq": event.seq if event else None, "boardId": board.slug}
