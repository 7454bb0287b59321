"""Server-rendered pages: the board list and the live board page."""

import re

from django.contrib.auth.views import redirect_to_login
from django.db.models import Count
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render

from . import permissions, services
from .errors import Forbidden, NotFound
from .models import Membership


# Why the board page sent someone back here (?gone=<slug>&why=…): its JS
# does on `board_deleted` and on being evicted from a private board.
BOARD_ID = re.compile(r"[-a-zA-Z0-9_]{1,80}")
GONE_REASONS = {
    "deleted": "The board {slug} was deleted.",
    "removed": "You no longer have access to the board {slug}.",
}


def board_list(request):
    boards = permissions.visible_boards(request.user).annotate(task_count=Count("lists__tasks", distinct=True)).order_by("slug")
    gone = request.GET.get("gone", "")
    reason = GONE_REASONS.get(request.GET.get("why", ""))
    # Only a board id is echoed (escaped by the template too): no free text to dress up as a notice.
    notice = reason.format(slug=f"\u201c{gone}\u201d") if reason and BOARD_ID.fullmatch(gone) else ""
    return render(request, "boards/board_list.html", {"boards": boards, "notice": notice})


def board_detail(request, slug):
    try:
        snapshot = services.board_snapshot(request.user, slug)
    except NotFound:
        raise Http404(f"Unknown board: {slug}")
    except Forbidden:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        raise PermissionDenied(f"You may not view board {slug}")
    board = permissions.Board.objects.get(slug=slug)
    role = permissions.role_of(request.user, board)
    tasks_by_list = {}
    for task in snapshot["tasks"]:
        tasks_by_list.setdefault(task["listId"], []).append(task)
    columns = [{**lst, "tasks": tasks_by_list.get(lst["id"], [])} for lst in snapshot["lists"]]
    return render(
        request,
        "boards/board.html",
        {
            "board": board,
            "columns": columns,
            "snapshot": snapshot,
            "can_edit": role in Membership.EDIT_ROLES,
            "role": role or "",
        },
    )
