"""
REST for SPEC §11: announcements (anyone reads, staff send), your
notifications and marking them read, direct messages. The changes are
boards.announcements / boards.notifications — the code the WebSocket
consumer runs — and push to sockets after commit.
"""

from rest_framework import status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny, IsAdminUser, IsAuthenticated
from rest_framework.response import Response

from boards import announcements, notifications, validation, wire
from boards.api.common import domain_errors, validated


@api_view(["GET", "POST"])
@permission_classes([AllowAny])
@domain_errors
def announcement_list(request):
    if request.method == "GET":
        return Response(announcements.recent())
    if not IsAdminUser().has_permission(request, None):
        return Response(*_refused(request))
    data = validated(validation.CreateAnnouncement, request.data)
    ann = announcements.announce(data["text"], data["level"], by=request.user)
    return Response(wire.announcement(ann), status=status.HTTP_201_CREATED)


def _refused(request):
    if not request.user.is_authenticated:
        return {"detail": "Authentication credentials were not provided."}, status.HTTP_401_UNAUTHORIZED
    return {"detail": "Only staff may send announcements."}, status.HTTP_403_FORBIDDEN


@api_view(["GET"])
@permission_classes([IsAuthenticated])
def notification_list(request):
    unread_only = request.query_params.get("unread") in ("1", "true")
    return Response(notifications.listing(request.user, unread_only))


@api_view(["POST"])
@permission_classes([IsAuthenticated])
@domain_errors
def notifications_read(request):
    data = validated(validation.ReadNotifications, request.data)
    unread = notifications.mark_read(request.user, data.get("ids"), data.get("all", False))
    return Response({"unread": unread})


@api_view(["POST"])
@permission_classes([IsAuthenticated])
@domain_errors
def message_create(request):
    data = validated(validation.DirectMessage, request.data)
    note = notifications.send_direct(request.user, data["to"], data["text"])
    return Response({"notificationId": note.pk}, status=status.HTTP_201_CREATED)
