"""
Who may watch and who may change a board (SPEC §7).

Anonymous users may watch public boards; private boards need a membership;
changing tasks needs the editor or owner role. Plain functions over plain
data so the consumer, the REST API and the pages ask the same questions.
"""

from .errors import Forbidden, NotFound
from .models import Board, Membership


def role_of(user, board):
    if user is None or not user.is_authenticated:
        return None
    return Membership.objects.filter(user=user, board=board).values_list("role", flat=True).first()


def can_view(user, board, role=None):
    return board.is_public or (role or role_of(user, board)) is not None


def can_edit(user, board, role=None):
    return (role or role_of(user, board)) in Membership.EDIT_ROLES


def visible_boards(user):
    boards = Board.objects.all()
    if user is None or not user.is_authenticated:
        return boards.filter(visibility=Board.PUBLIC)
    return (boards.filter(visibility=Board.PUBLIC) | boards.filter(memberships__user=user)).distinct()


def board_for_viewing(user, slug):
    """The board, or NotFound / Forbidden. A board's existence is not secret."""
    board = Board.objects.filter(slug=slug).first()
    if board is None:
        raise NotFound(f"Unknown board: {slug}")
    if not can_view(user, board):
        raise Forbidden(f"You may not view board {slug}")
    return board


def check_edit(user, board):
    role = role_of(user, board)
    if not can_view(user, board, role):
        raise Forbidden(f"You may not view board {board.slug}")
    if not can_edit(user, board, role):
        raise Forbidden(f"You may not change tasks on board {board.slug}")
