"""
Board members (SPEC §12): anyone who may view a board sees its members;
owners add them by username, change their role and remove them; any member
may leave. A board always keeps an owner.

The Membership signals record `member_*` events and re-check the access of
a removed member's open sockets (evicted at once from a private board).
"""

from django.contrib.auth import get_user_model

from boards import wire
from boards.errors import BadRequest, NotFound
from boards.models import Membership, one_or_none
from boards.permissions import board_for_viewing

from .base import LOCK_BOARD, board_by_slug_for_change, changes_as_user, check_own, locked_board_and_role
from .tasks import members_of


def list_members(user, slug):
    return {"members": members_of(board_for_viewing(user, slug))}


def _seq(membership, board):
    event = membership.last_event
    return event.seq if event else board.last_seq


def _result(membership, board):
    return {"member": wire.member_dict(membership.user, membership.role), "seq": _seq(membership, board), "boardId": board.slug}


@changes_as_user
def add_member(user, slug, data):
    board = board_by_slug_for_change(user, slug, owner=True)
    User = get_user_model()
    new = one_or_none(User.objects.filter(username=data["username"], is_active=True))
    if new is None:
        raise BadRequest(f"No user {data['username']}", fields={"username": ["No such user."]})
    if Membership.objects.filter(board=board, user=new).exists():
        raise BadRequest(f"{new.get_username()} is already a member", fields={"username": ["Already a member."]})
    membership = Membership(board=board, user=new, role=data["role"])
    membership.save()
    return _result(membership, board)


def _membership_for_change(user, slug, username, may_leave=False):
    """(board locked, membership): owners may change anyone; with `may_leave`, members themselves too."""
    board = board_for_viewing(user, slug)
    found = locked_board_and_role(user, LOCK_BOARD, board.pk)
    if found is None:
        raise NotFound(f"Unknown board: {slug}")
    board, role = found
    membership = one_or_none(Membership.objects.filter(board=board, user__username=username).select_related("user"))
    leaving = may_leave and membership is not None and membership.user_id == user.pk
    if not leaving:
        check_own(user, board, role)
    if membership is None:
        raise NotFound(f"{username} is not a member of board {slug}")
    return board, membership


def _keep_an_owner(board, membership, new_role=None):
    if membership.role != Membership.OWNER or new_role == Membership.OWNER:
        return
    if not Membership.objects.filter(board=board, role=Membership.OWNER).exclude(pk=membership.pk).exists():
        raise BadRequest(
            f"{membership.user.get_username()} is the last owner of board {board.slug}; make someone else owner first",
            fields={"role": ["A board keeps at least one owner."]},
        )


@changes_as_user
def change_member(user, slug, username, data):
    board, membership = _membership_for_change(user, slug, username)
    _keep_an_owner(board, membership, data["role"])
    membership.role = data["role"]
    membership.save()
    return _result(membership, board)


@changes_as_user
def remove_member(user, slug, username):
    board, membership = _membership_for_change(user, slug, username, may_leave=True)
    _keep_an_owner(board, membership)
    membership.delete()
    return {"user": wire.user_dict(membership.user), "seq": _seq(membership, board), "boardId": board.slug}
