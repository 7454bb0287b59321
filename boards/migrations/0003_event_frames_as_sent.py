"""The event log keeps each frame as the text sent live (BoardEvent.frame),
not as a JSON column that reorders its keys (PostgreSQL's jsonb does)."""

import json

from django.db import migrations, models

# The live order of a frame's keys (boards.wire.board_event, task_dict, …).
TOP = ("type", "boardId", "seq")
TASK = ("id", "listId", "title", "description", "position", "version", "assignee")
LIST = ("id", "name", "position")


def _ordered(obj, first):
    keys = [k for k in first if k in obj] + sorted(k for k in obj if k not in first)
    return {k: obj[k] for k in keys}


def live_order(payload):
    frame = _ordered(payload, TOP)
    if "actor" in frame:  # last, as live
        frame["actor"] = frame.pop("actor")
    if isinstance(frame.get("task"), dict):
        frame["task"] = _ordered(frame["task"], TASK)
    if isinstance(frame.get("list"), dict):
        frame["list"] = _ordered(frame["list"], LIST)
    return frame


def payload_to_frame(apps, schema_editor):
    BoardEvent = apps.get_model("boards", "BoardEvent")
    batch = []
    for event in BoardEvent.objects.only("pk", "payload").iterator(chunk_size=2000):
        event.frame = json.dumps(live_order(event.payload), separators=(",", ":"), ensure_ascii=False)
        batch.append(event)
        if len(batch) >= 2000:
            BoardEvent.objects.bulk_update(batch, ["frame"])
            batch = []
    BoardEvent.objects.bulk_update(batch, ["frame"])


def frame_to_payload(apps, schema_editor):
    BoardEvent = apps.get_model("boards", "BoardEvent")
    for event in BoardEvent.objects.only("pk", "frame").iterator(chunk_size=2000):
        event.payload = json.loads(event.frame)
        event.save(update_fields=["payload"])


class Migration(migrations.Migration):

    dependencies = [
        ("boards", "0002_lists_members_assignees"),
    ]

    operations = [
        migrations.AddField(
            model_name="boardevent",
            name="frame",
            field=models.TextField(default="", help_text="The event's frame as sent live (JSON text)."),
            preserve_default=False,
        ),
        migrations.RunPython(payload_to_frame, frame_to_payload),
        migrations.RemoveField(model_name="boardevent", name="payload"),
    ]
