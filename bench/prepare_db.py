"""
Fresh bench database: migrate, demo data, bench fixtures. Prints JSON.

Run with DATABASE_URL pointing at an empty database (bench/stacks.py makes a
temporary SQLite file or PostgreSQL database per run):

    DATABASE_URL=sqlite:////tmp/x.sqlite3 python bench/prepare_db.py --tasks 8

board-2 is made public so decoy viewers can watch it anonymously; bob (an
editor of board-1) gets an API token for REST publishers and WebSocket tickets.
"""

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "boardsite.settings")
os.environ.pop("REDIS_URL", None)  # no broadcasts to a live layer while preparing


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=8, help="tasks on board-1 for publishers to update")
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    call_command("demo", verbosity=0)

    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from boards.models import Board, List, Task

    Board.objects.filter(slug="board-2").update(visibility=Board.PUBLIC)
    todo = List.objects.get(pk="list-todo")
    ids = [Task.objects.create(list=todo, title=f"bench task {i}").pk for i in range(args.tasks)]
    bob = get_user_model().objects.get(username="bob")
    token, _ = Token.objects.get_or_create(user=bob)
    print(json.dumps({"token": token.key, "tasks": ids, "list": todo.pk}))


if __name__ == "__main__":
    main()
