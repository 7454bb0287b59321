"""
What a valid request is — one serializer per message, shared by the
WebSocket consumer and the REST API.

Fields are strict: JSON types are not coerced (`"5"` is not a position,
`true` is not a title), unknown fields are refused, numbers are bounded so
they fit the database, and strings must be encodable text.
"""

from rest_framework import serializers

from .models import BOARD_NAME_MAX, DESCRIPTION_MAX, LIST_NAME_MAX, TITLE_MAX, Board, Membership
from .models import board_slug_validator as models_slug_validator

MAX_INT = 2**31 - 1  # positions, seqs and ids all fit a signed 32/64-bit column
MAX_ID = 2**53  # JSON-safe integer ids


def _encodable(value):
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise serializers.ValidationError("Must be valid Unicode text (no lone surrogates).")


class StrictCharField(serializers.CharField):
    def __init__(self, **kwargs):
        validators = list(kwargs.pop("validators", [])) + [_encodable]
        super().__init__(validators=validators, **kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    default_error_messages = {"invalid": "A whole number is required."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


def board_id_field(**kwargs):
    return StrictCharField(max_length=80, **kwargs)


def list_id_field(**kwargs):
    return StrictCharField(max_length=80, **kwargs)


def task_id_field():
    return StrictIntegerField(min_value=1, max_value=MAX_ID)


def position_field(**kwargs):
    return StrictIntegerField(min_value=0, max_value=MAX_INT, **kwargs)


def version_field():
    return StrictIntegerField(min_value=1, max_value=MAX_INT, required=False)


def title_field(**kwargs):
    return StrictCharField(min_length=1, max_length=TITLE_MAX, **kwargs)


def assignee_field():
    """A username, or null to unassign (SPEC §12)."""
    return StrictCharField(max_length=150, required=False, allow_null=True)


def list_name_field(**kwargs):
    return StrictCharField(min_length=1, max_length=LIST_NAME_MAX, **kwargs)


def description_field():
    return StrictCharField(max_length=DESCRIPTION_MAX, required=False, allow_blank=True, trim_whitespace=False)


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not know (except the envelope's type/ref)."""

    envelope = ("type", "ref")

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError({"non_field_errors": ["Expected a JSON object."]})
        unknown = sorted(set(data) - set(self.fields) - set(self.envelope))
        if unknown:
            raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)


# --- WebSocket messages ---------------------------------------------------


class JoinMessage(StrictSerializer):
    boardId = board_id_field()
    since = StrictIntegerField(min_value=0, max_value=2**62, required=False, allow_null=True)


class LeaveMessage(StrictSerializer):
    boardId = board_id_field()


class PingMessage(StrictSerializer):
    pass


class CreateTask(StrictSerializer):
    """create_task (WS) and POST /api/tasks/ (REST, where boardId is optional)."""

    boardId = board_id_field(required=False)
    listId = list_id_field()
    title = title_field()
    description = description_field()
    position = position_field(required=False)
    assignee = assignee_field()


class CreateTaskMessage(CreateTask):
    boardId = board_id_field()


class MoveTaskMessage(StrictSerializer):
    taskId = task_id_field()
    listId = list_id_field()
    position = position_field()
    version = version_field()


class UpdateTaskMessage(StrictSerializer):
    taskId = task_id_field()
    title = title_field(required=False)
    description = description_field()
    assignee = assignee_field()
    version = version_field()

    def validate(self, attrs):
        if not {"title", "description", "assignee"} & set(attrs):
            raise serializers.ValidationError("Give title, description and/or assignee to change.")
        return attrs


class DeleteTaskMessage(StrictSerializer):
    taskId = task_id_field()
    version = version_field()


class PatchTask(StrictSerializer):
    """PATCH /api/tasks/<id>/: any of the task's editable fields."""

    listId = list_id_field(required=False)
    position = position_field(required=False)
    title = title_field(required=False)
    description = description_field()
    assignee = assignee_field()
    version = version_field()


# --- columns (SPEC §12): WebSocket messages and REST bodies ----------------------


class CreateList(StrictSerializer):
    """create_list (WS) and POST /api/lists/."""

    boardId = board_id_field()
    name = list_name_field()
    position = position_field(required=False)


class UpdateListMessage(StrictSerializer):
    listId = list_id_field()
    name = list_name_field()


class MoveListMessage(StrictSerializer):
    listId = list_id_field()
    position = position_field()


class DeleteListMessage(StrictSerializer):
    listId = list_id_field()


class PatchList(StrictSerializer):
    """PATCH /api/lists/<id>/."""

    name = list_name_field(required=False)
    position = position_field(required=False)

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError("Give name and/or position to change.")
        return attrs


# --- boards and members (SPEC §12): REST bodies ------------------------------------


def visibility_field(**kwargs):
    return serializers.ChoiceField(choices=[Board.PUBLIC, Board.PRIVATE], **kwargs)


def role_field(**kwargs):
    return serializers.ChoiceField(choices=[Membership.VIEWER, Membership.EDITOR, Membership.OWNER], **kwargs)


class CreateBoard(StrictSerializer):
    name = StrictCharField(min_length=1, max_length=BOARD_NAME_MAX)
    visibility = visibility_field(required=False)
    slug = StrictCharField(min_length=1, max_length=80, required=False, validators=[models_slug_validator])


class PatchBoard(StrictSerializer):
    name = StrictCharField(min_length=1, max_length=BOARD_NAME_MAX, required=False)
    visibility = visibility_field(required=False)

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError("Give name and/or visibility to change.")
        return attrs


class AddMember(StrictSerializer):
    username = StrictCharField(min_length=1, max_length=150)
    role = role_field(required=False, default=Membership.VIEWER)


class PatchMember(StrictSerializer):
    role = role_field()


class ActivityParams(serializers.Serializer):
    """GET /api/boards/<id>/activity?before=SEQ&limit=N (query strings: digits)."""

    before = serializers.IntegerField(min_value=1, max_value=2**62, required=False)
    limit = serializers.IntegerField(min_value=1, max_value=200, required=False)


def first_error(errors, prefix=""):
    """One human sentence for a serializer's errors, e.g. "boardId is required"."""
    if isinstance(errors, dict):
        for field, detail in errors.items():
            messages = detail if isinstance(detail, list) else [detail]
            first = messages[0] if messages else "is invalid"
            if isinstance(first, dict):
                return first_error(first, prefix=f"{field}.")
            code = getattr(first, "code", None)
            name = f"{prefix}{field}"
            if field == "non_field_errors":
                return str(first)
            if code == "required":
                return f"{name} is required"
            if code == "null":
                return f"{name} may not be null"
            return f"{name}: {first}"
    if isinstance(errors, list) and errors:
        return str(errors[0])
    return "Invalid request"


# --- beyond the board room (SPEC §11): WebSocket messages and REST bodies -----------

ANNOUNCEMENT_LEVELS = ("info", "warning", "critical")
DIRECT_TEXT_MAX = 2000
READ_IDS_MAX = 1000


class StrictChoiceField(serializers.ChoiceField):
    """A ChoiceField that takes only strings (DRF's compares str(value))."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid_choice", input=str(data)[:40])
        return super().to_internal_value(data)


class StrictTrueField(serializers.BooleanField):
    default_error_messages = {"invalid": "Must be true."}

    def to_internal_value(self, data):
        if data is not True:
            self.fail("invalid")
        return True


class StrictBooleanField(serializers.BooleanField):
    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class CreateAnnouncement(StrictSerializer):
    """POST /api/announcements/ (staff)."""

    text = StrictCharField(min_length=1, max_length=500)
    level = StrictChoiceField(choices=ANNOUNCEMENT_LEVELS, required=False, default="info")


class ReadNotifications(StrictSerializer):
    """`read_notifications` (WS) and POST /api/notifications/read/: {ids} or {all: true}."""

    ids = serializers.ListField(child=StrictIntegerField(min_value=1, max_value=MAX_ID), max_length=READ_IDS_MAX, required=False)
    all = StrictTrueField(required=False)

    def validate(self, attrs):
        if ("ids" in attrs) == ("all" in attrs):
            raise serializers.ValidationError("Give either ids (a list) or all: true.")
        return attrs


class DirectMessage(StrictSerializer):
    """`direct` (WS) and POST /api/messages/."""

    to = StrictCharField(min_length=1, max_length=150)
    text = StrictCharField(min_length=1, max_length=DIRECT_TEXT_MAX, trim_whitespace=False)

    def validate_text(self, value):
        if not value.strip():
            raise serializers.ValidationError("Must not be blank.")
        return value


class StatusMessage(StrictSerializer):
    status = StrictChoiceField(choices=("active", "away"))


class EditingMessage(StrictSerializer):
    taskId = task_id_field()
    editing = StrictBooleanField()
