"""`manage.py prune_events`: keep each board's newest LIVEBOARD_EVENT_RETENTION events.

Safe while the server runs: it deletes only old rows by seq, in batches,
and never touches a board's last_seq. A client asking to replay pruned
events gets `resync_required` and reloads the snapshot.
"""

from django.conf import settings
from django.core.management.base import BaseCommand

from boards.models import Board, BoardEvent


class Command(BaseCommand):
    help = "Delete board events older than the newest LIVEBOARD_EVENT_RETENTION per board."

    def add_arguments(self, parser):
        parser.add_argument("--keep", type=int, default=None, help="events to keep per board")

    def handle(self, *args, keep=None, **options):
        keep = settings.LIVEBOARD_EVENT_RETENTION if keep is None else keep
        total = 0
        for board_pk, last_seq in Board.objects.values_list("pk", "last_seq"):
            deleted, _ = BoardEvent.objects.filter(board_id=board_pk, seq__lte=last_seq - keep).delete()
            total += deleted
        self.stdout.write(f"Pruned {total} events (kept the newest {keep} per board)")
