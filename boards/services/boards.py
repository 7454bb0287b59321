"""
Board changes (SPEC §12): any logged-in user creates a board and owns it;
its owners rename it, change its visibility and delete it.

A new board starts at seq 0 with the columns "To do", "Doing", "Done" and
its creator as owner — written without events: nobody can be watching a
board that did not exist, and its activity starts with what people do on it.
"""

from django.db import IntegrityError, transaction
from django.utils.text import slugify

from boards import wire
from boards.errors import BadRequest, Forbidden
from boards.models import Board, List, Membership, new_list_id

from .base import board_by_slug_for_change, changes_as_user
from .tasks import board_snapshot

DEFAULT_LISTS = ("To do", "Doing", "Done")


def _free_slug(name):
    """A slug made from the name, unique among boards (`-2`, `-3`, … when taken)."""
    base = (slugify(name)[:70].strip("-_") or "board")
    slug, n = base, 1
    while Board.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def create_board(user, data):
    if user is None or not user.is_authenticated:
        raise Forbidden("Log in to create a board")
    slug = data.get("slug")
    if slug is not None and Board.objects.filter(slug=slug).exists():
        raise BadRequest(f"A board {slug} exists already", fields={"slug": ["Already taken."]})
    try:
        with transaction.atomic():
            board = Board.objects.create(
                slug=slug or _free_slug(data["name"]),
                name=data["name"],
                visibility=data.get("visibility", Board.PRIVATE),
            )
            List.objects.bulk_create(
                List(id=new_list_id(), board=board, name=name, position=i) for i, name in enumerate(DEFAULT_LISTS)
            )
            Membership.objects.bulk_create([Membership(board=board, user=user, role=Membership.OWNER)])
    except IntegrityError:  # the same slug, created a moment ago by someone else
        raise BadRequest("That board id was just taken; try again", fields={"slug": ["Already taken."]})
    return board_snapshot(user, board.slug)


@changes_as_user
def update_board(user, slug, data):
    """Rename and/or change the visibility (a board turned private evicts non-members)."""
    board = board_by_slug_for_change(user, slug, owner=True)
    for field in ("name", "visibility"):
        if field in data:
            setattr(board, field, data[field])
    board.save(update_fields=["name", "visibility"])
    event = board.last_event
    return {"board": wire.board_dict(board), "seq": event.seq if event else board.last_seq, "boardId": board.slug}


@changes_as_user
def delete_board(user, slug):
    """Delete the board with its columns, tasks, members and log; everyone on it is told."""
    board = board_by_slug_for_change(user, slug, owner=True)
    board.delete()
    return {"boardId": slug}
