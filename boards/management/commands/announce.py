"""`manage.py announce "TEXT" [--level info|warning|critical]`: send a
server-wide announcement to every open socket on every process; prints its id."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from boards.announcements import announce
from boards.models import Announcement


class Command(BaseCommand):
    help = "Send an announcement to every open WebSocket (SPEC §11); prints its id."

    def add_arguments(self, parser):
        parser.add_argument("text")
        parser.add_argument("--level", choices=[c for c, _ in Announcement.LEVEL_CHOICES], default=Announcement.INFO)

    def handle(self, *args, text, level, **options):
        try:
            ann = announce(text, level)
        except ValidationError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from None
        self.stdout.write(str(ann.pk))
