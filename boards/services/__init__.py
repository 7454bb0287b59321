"""
Every change and read the doors share (socket, REST, pages), as plain
synchronous functions — one module per kind of thing changed:

| module | what |
|---|---|
| `base.py` | the transaction's shape: board row locked with the user's role, the acting user |
| `tasks.py` | tasks (create, move, update, delete, assignee) and the board snapshot |
| `lists.py` | columns (create, rename, move, delete when empty) |
| `boards.py` | boards (create with default columns, rename, visibility, delete) |
| `members.py` | members (list, add, change role, remove; never without an owner) |
"""

from .boards import create_board, delete_board, update_board
from .lists import change_list, create_list, delete_list
from .members import add_member, change_member, list_members, remove_member
from .tasks import board_snapshot, change_task, create_task, delete_task, members_of, task_for_viewing

__all__ = [
    "add_member", "board_snapshot", "change_list", "change_member", "change_task", "create_board",
    "create_list", "create_task", "delete_board", "delete_list", "delete_task", "list_members",
    "members_of", "remove_member", "task_for_viewing", "update_board",
]
