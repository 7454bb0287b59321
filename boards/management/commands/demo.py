"""`manage.py demo`: the SPEC §9 demo users, boards, lists and tasks, and the
staff superuser `admin` (SPEC §12) so a newcomer can open /admin/. Idempotent."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from boards.models import Board, List, Membership, Task

PASSWORD = "liveboard-demo"
ADMIN = "admin"  # staff superuser for /admin/, same password

BOARDS = [
    {
        "slug": "board-1",
        "name": "Liveboard launch",
        "visibility": Board.PUBLIC,
        "members": {"alice": Membership.OWNER, "bob": Membership.EDITOR},
        "lists": [
            ("list-todo", "To do", ["Write the README", "Try it with wscat"]),
            ("list-doing", "Doing", ["Drag a card between columns"]),
            ("list-done", "Done", ["Run manage.py demo"]),
        ],
    },
    {
        "slug": "board-2",
        "name": "Carol's private board",
        "visibility": Board.PRIVATE,
        "members": {"carol": Membership.OWNER},
        "lists": [
            ("b2-todo", "To do", ["Plan the quarter"]),
            ("b2-done", "Done", []),
        ],
    },
]


class Command(BaseCommand):
    help = "Create the demo users (password liveboard-demo), boards, lists and tasks. Safe to run twice."

    def handle(self, *args, **options):
        User = get_user_model()
        users = {}
        with transaction.atomic():
            for name in ("alice", "bob", "carol"):
                user, created = User.objects.get_or_create(username=name, defaults={"email": f"{name}@example.com"})
                if created:
                    user.set_password(PASSWORD)
                    user.save()
                users[name] = user
            if not User.objects.filter(username=ADMIN).exists():
                User.objects.create_superuser(ADMIN, f"{ADMIN}@example.com", PASSWORD)
            for spec in BOARDS:
                board, _ = Board.objects.get_or_create(
                    slug=spec["slug"], defaults={"name": spec["name"], "visibility": spec["visibility"]}
                )
                # A board's setup, like services.create_board's, is not activity:
                # members and columns are written without events (bulk_create),
                # the demo tasks with them.
                Membership.objects.bulk_create(
                    [
                        Membership(user=users[name], board=board, role=role)
                        for name, role in spec["members"].items()
                        if not Membership.objects.filter(user=users[name], board=board).exists()
                    ]
                )
                for position, (list_id, list_name, titles) in enumerate(spec["lists"]):
                    if not List.objects.filter(id=list_id).exists():
                        List.objects.bulk_create([List(id=list_id, board=board, name=list_name, position=position)])
                    lst = List.objects.get(id=list_id)
                    for title in titles:
                        if not Task.objects.filter(list__board=board, title=title).exists():
                            Task.objects.create(list=lst, title=title)
        self.stdout.write(self.style.SUCCESS("Demo data ready: alice, bob, carol / liveboard-demo; board-1, board-2; /admin/ as admin / liveboard-demo"))
