"""
REST API (SPEC §6). Thin views: validation is boards.validation, changes
are boards.services — the same code the WebSocket consumer runs — and
domain errors map onto DRF responses in one handler.
"""

from rest_framework import status
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny, IsAuthenticated, IsAuthenticatedOrReadOnly
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from boards import permissions, services, tickets, validation, wire
from boards.realtime import polling
from boards.errors import LiveboardError
from boards.api.parsers import JSONParser  # DRF's, with deep nesting a 400 not a 500


class ObtainToken(ObtainAuthToken):
    """POST {username, password} → {token}; JSON only."""

    parser_classes = [JSONParser]
    renderer_classes = [JSONRenderer]


def _error_response(exc):
    status_code, body = wire.rest_error(exc)
    return Response(body, status=status_code)


def _validated(serializer_class, data):
    serializer = serializer_class(data=data)
    if not serializer.is_valid():
        return None, Response(serializer.errors, status=status.HTTP_400_BAD_REQUEST)
    return serializer.validated_data, None


def _board_summary(board):
    return {"id": board.slug, "name": board.name, "visibility": board.visibility, "seq": board.last_seq}


@api_view(["POST"])
@permission_classes([IsAuthenticated])
def ws_ticket(request):
    return Response({"ticket": tickets.issue(request.user)}, status=status.HTTP_201_CREATED)


@api_view(["GET"])
@permission_classes([AllowAny])
def board_list(request):
    boards = permissions.visible_boards(request.user).order_by("slug")
    return Response([_board_summary(b) for b in boards])


@api_view(["GET"])
@permission_classes([AllowAny])
def board_detail(request, slug):
    try:
        return Response(services.board_snapshot(request.user, slug))
    except LiveboardError as exc:
        return _error_response(exc)


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


@api_view(["POST"])
@permission_classes([IsAuthenticated])
def task_create(request):
    data, invalid = _validated(validation.CreateTask, request.data)
    if invalid:
        return invalid
    try:
        result = services.create_task(request.user, data)
    except LiveboardError as exc:
        return _error_response(exc)
    return Response(_task_body(result), status=status.HTTP_201_CREATED)


@api_view(["GET", "PATCH", "DELETE"])
@permission_classes([IsAuthenticatedOrReadOnly])
def task_detail(request, task_id):
    try:
        if request.method == "GET":
            return Response(services.task_for_viewing(request.user, task_id))
        if request.method == "DELETE":
            version = request.query_params.get("version")
            services.delete_task(request.user, task_id, int(version) if version and version.isdigit() else None)
            return Response(status=status.HTTP_204_NO_CONTENT)
        data, invalid = _validated(validation.PatchTask, request.data)
        if invalid:
            return invalid
        result = services.change_task(request.user, task_id, data)
    except LiveboardError as exc:
        return _error_response(exc)
    return Response(_task_body(result))


def _task_body(result):
    """The task object, plus where it lives and the event it made."""
    return {**result["task"], "boardId": result["boardId"], "seq": result["seq"]}
