"""
REST for boards, their members and activity (SPEC §6, §12).

`/api/boards/` lists (anyone) and creates (logged in); `/api/boards/<id>/`
is the snapshot (who may view), and its owners' PATCH and DELETE. Like the
task views, these validate with boards.validation and change through
boards.services; domain errors become responses in one place.
"""

from rest_framework import status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny, IsAuthenticatedOrReadOnly
from rest_framework.response import Response

from boards import activity, permissions, services, validation
from boards.api.common import domain_errors, validated
from boards.realtime import polling


def _board_summary(board):
    return {"id": board.slug, "name": board.name, "visibility": board.visibility, "seq": board.last_seq}


@api_view(["GET", "POST"])
@permission_classes([IsAuthenticatedOrReadOnly])
@domain_errors
def board_list(request):
    if request.method == "GET":
        boards = permissions.visible_boards(request.user).order_by("slug")
        return Response([_board_summary(b) for b in boards])
    data = validated(validation.CreateBoard, request.data)
    return Response(services.create_board(request.user, data), status=status.HTTP_201_CREATED)


@api_view(["GET", "PATCH", "DELETE"])
@permission_classes([IsAuthenticatedOrReadOnly])
@domain_errors
def board_detail(request, slug):
    if request.method == "GET":
        return Response(services.board_snapshot(request.user, slug))
    if request.method == "DELETE":
        services.delete_board(request.user, slug)
        return Response(status=status.HTTP_204_NO_CONTENT)
    data = validated(validation.PatchBoard, request.data)
    return Response(services.update_board(request.user, slug, data))


@api_view(["GET"])
@permission_classes([AllowAny])
def board_events(request, slug):
    """Events after `since`, shaped like their WebSocket frames (boards/realtime/polling.py).

    Under boardsite.asgi this URL is served by LongPollConsumer, which also
    long-polls (`wait`); this view answers the same way without waiting.
    """
    try:
        since, limit, _wait = polling.parse_params(request.query_params.get)
    except polling.BadParams as exc:
        return Response(exc.fields, status=status.HTTP_400_BAD_REQUEST)
    code, body = polling.events_body(request.user, slug, since, limit)
    return Response(body, status=code)


@api_view(["GET", "POST"])
@permission_classes([IsAuthenticatedOrReadOnly])
@domain_errors
def member_list(request, slug):
    if request.method == "GET":
        return Response(services.list_members(request.user, slug))
    data = validated(validation.AddMember, request.data)
    return Response(services.add_member(request.user, slug, data), status=status.HTTP_201_CREATED)


@api_view(["PATCH", "DELETE"])
@permission_classes([IsAuthenticatedOrReadOnly])
@domain_errors
def member_detail(request, slug, username):
    if request.method == "DELETE":
        services.remove_member(request.user, slug, username)
        return Response(status=status.HTTP_204_NO_CONTENT)
    data = validated(validation.PatchMember, request.data)
    return Response(services.change_member(request.user, slug, username, data))


@api_view(["GET"])
@permission_classes([AllowAny])
@domain_errors
def board_activity(request, slug):
    """Newest first; `before=SEQ` pages back, `limit` (1–200, default 50)."""
    params = validated(validation.ActivityParams, request.query_params.dict())
    return Response(activity.activity(request.user, slug, params.get("before"), params.get("limit")))
