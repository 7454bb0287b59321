"""
REST API (SPEC §6, §12): login tokens, tickets, tasks and columns. Thin
views: validation is boards.validation, changes are boards.services — the
same code the WebSocket consumer runs — and domain errors map onto DRF
responses in one place (boards/api/common.py). Boards, members and activity
are in boards/api/boards.py.
"""

from rest_framework import status
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import IsAuthenticated, IsAuthenticatedOrReadOnly
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from boards import services, tickets, validation
from boards.api.common import domain_errors, validated
from boards.api.parsers import JSONParser  # DRF's, with deep nesting a 400 not a 500


class ObtainToken(ObtainAuthToken):
    """POST {username, password} → {token}; JSON only."""

    parser_classes = [JSONParser]
    renderer_classes = [JSONRenderer]


@api_view(["POST"])
@permission_classes([IsAuthenticated])
def ws_ticket(request):
    return Response({"ticket": tickets.issue(request.user)}, status=status.HTTP_201_CREATED)


@api_view(["POST"])
@permission_classes([IsAuthenticated])
@domain_errors
def task_create(request):
    data = validated(validation.CreateTask, request.data)
    return Response(_task_body(services.create_task(request.user, data)), status=status.HTTP_201_CREATED)


@api_view(["GET", "PATCH", "DELETE"])
@permission_classes([IsAuthenticatedOrReadOnly])
@domain_errors
def task_detail(request, task_id):
    if request.method == "GET":
        return Response(services.task_for_viewing(request.user, task_id))
    if request.method == "DELETE":
        version = request.query_params.get("version")
        services.delete_task(request.user, task_id, int(version) if version and version.isdigit() else None)
        return Response(status=status.HTTP_204_NO_CONTENT)
    data = validated(validation.PatchTask, request.data)
    return Response(_task_body(services.change_task(request.user, task_id, data)))


def _task_body(result):
    """The task object, plus where it lives and the event it made."""
    return {**result["task"], "boardId": result["boardId"], "seq": result["seq"]}


@api_view(["POST"])
@permission_classes([IsAuthenticated])
@domain_errors
def list_create(request):
    data = validated(validation.CreateList, request.data)
    return Response(_list_body(services.create_list(request.user, data)), status=status.HTTP_201_CREATED)


@api_view(["PATCH", "DELETE"])
@permission_classes([IsAuthenticated])
@domain_errors
def list_detail(request, list_id):
    if request.method == "DELETE":
        services.delete_list(request.user, list_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
    data = validated(validation.PatchList, request.data)
    return Response(_list_body(services.change_list(request.user, list_id, data)))


def _list_body(result):
    return {**result["list"], "boardId": result["boardId"], "seq": result["seq"]}
