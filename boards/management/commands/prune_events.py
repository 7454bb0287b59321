"""`manage.py prune_events`: bound each board's event log by count and by age.

Keeps each board's newest LIVEBOARD_EVENT_RETENTION events (`--keep`) and
drops events older than LIVEBOARD_EVENT_MAX_AGE seconds (`--max-age`; 0 = no
age limit) — except that the age rule never removes a board's newest event:
a client that missed only the last event of a quiet board (its `pong` says
so) can still fetch it instead of reloading the whole board. (`--keep 0`
empties the log on purpose; the board's `last_seq` lives on the Board row,
so the sequence continues either way.)

Safe while the server runs: it only deletes a board's oldest events, oldest
first, in small batches that each commit on their own — so the kept log is
a gap-free suffix at every moment, writers (who append above `last_seq`
under the board row lock) never wait long, and it never touches `last_seq`.
A client asking to replay pruned events gets `resync_required` and reloads
the snapshot.
"""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db.models import Max
from django.utils import timezone

from boards.models import Board, BoardEvent


class Command(BaseCommand):
    help = (
        "Delete board events beyond the newest LIVEBOARD_EVENT_RETENTION per board and "
        "older than LIVEBOARD_EVENT_MAX_AGE seconds (never a board's newest event)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--keep", type=int, default=None, help="events to keep per board")
        parser.add_argument(
            "--max-age", type=int, default=None, help="seconds; older events go (0: no age limit)"
        )
        parser.add_argument("--batch-size", type=int, default=1000, help="rows per DELETE (one commit each)")

    def handle(self, *args, keep=None, max_age=None, batch_size=1000, **options):
        keep = max(0, settings.LIVEBOARD_EVENT_RETENTION if keep is None else keep)
        max_age = max(0, settings.LIVEBOARD_EVENT_MAX_AGE if max_age is None else max_age)
        batch_size = max(1, batch_size)
        aged = {}
        if max_age:
            threshold = timezone.now() - timedelta(seconds=max_age)
            aged = dict(
                BoardEvent.objects.filter(created__lt=threshold)
                .values("board_id")
                .annotate(newest=Max("seq"))
                .values_list("board_id", "newest")
            )
        total = 0
        for board_pk, last_seq in list(Board.objects.values_list("pk", "last_seq")):
            cutoff = last_seq - keep  # delete seq <= cutoff
            if board_pk in aged:
                cutoff = max(cutoff, min(aged[board_pk], last_seq - 1))
            if cutoff > 0:
                total += self._delete_through(board_pk, cutoff, batch_size)
        age = f"; events older than {max_age} s, but each board's newest" if max_age else ""
        self.stdout.write(f"Pruned {total} events (kept the newest {keep} per board{age})")

    @staticmethod
    def _delete_through(board_pk, cutoff, batch_size):
        """Delete the board's events with seq <= cutoff, oldest first, one short commit per batch."""
        deleted = 0
        while True:
            pks = list(
                BoardEvent.objects.filter(board_id=board_pk, seq__lte=cutoff)
                .order_by("seq")
                .values_list("pk", flat=True)[:batch_size]
            )
            if not pks:
                return deleted
            deleted += BoardEvent.objects.filter(pk__in=pks).delete()[0]
            if len(pks) < batch_size:
                return deleted
