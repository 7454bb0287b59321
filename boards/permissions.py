"""
Who may watch and who may change a board (SPEC §7).

Anonymous users may watch public boards; private boards need a membership;
changing tasks needs the editor or owner role. Plain functions over plain
data so the consumer, the REST API and the pages ask the same questions.
"""

from django.db.models import OuterRef, Subquery

from .errors import Forbidden, NotFound
from .models import Board, Membership, one_or_none

_LOOK_UP = object()  # role argument: not known yet, read it


def role_of(user, board):
    if user is None or not user.is_authenticated:
        return None
    return one_or_none(Membership.objects.filter(user=user, board=board).values_list("role", flat=True))


def with_role(boards, user_id):
    """Annotate each board with `user_role`, user `user_id`'s role (None: none).

    Lets a change read the editor's role in the query that locks the board
    instead of in one more round trip. `user_id` may be a query parameter
    (boards.tuning.statements); None (anonymous) matches no membership.
    """
    memberships = Membership.objects.filter(board=OuterRef("pk"), user_id=user_id).values("role")[:1]
    return boards.annotate(user_role=Subquery(memberships))


def can_view(user, board, role=_LOOK_UP):
    if board.is_public:
        return True
    return (role_of(user, board) if role is _LOOK_UP else role) is not None


def can_edit(user, board, role=_LOOK_UP):
    return (role_of(user, board) if role is _LOOK_UP else role) in Membership.EDIT_ROLES


def visible_boards(user):
    boards = Board.objects.all()
    if user is None or not user.is_authenticated:
        return boards.filter(visibility=Board.PUBLIC)
    return (boards.filter(visibility=Board.PUBLIC) | boards.filter(memberships__user=user)).distinct()


def board_for_viewing(user, slug):
    """The board, or NotFound / Forbidden. A board's existence is not secret."""
    board = one_or_none(Board.objects.filter(slug=slug))
    if board is None:
        raise NotFound(f"Unknown board: {slug}")
    if not can_view(user, board):
        raise Forbidden(f"You may not view board {slug}")
    return board


def check_edit(user, board, role=_LOOK_UP):
    """Forbidden unless `user` may change tasks on `board`; `role` if already read (with_role)."""
    if role is _LOOK_UP:
        role = role_of(user, board)
    if not can_view(user, board, role):
        raise Forbidden(f"You may not view board {board.slug}")
    if not can_edit(user, board, role):
        raise Forbidden(f"You may not change tasks on board {board.slug}")
