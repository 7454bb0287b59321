"""
The permission matrix (SPEC §7, §12): anonymous / non-member / viewer / editor /
owner × public `board-1` / private `board-2` × every WebSocket message and
every REST endpoint — tasks, columns, members, the board, its activity. Each cell is an exact reply type or error code (WS) or
HTTP status (REST); a refused change leaves the database untouched.
"""

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from boards.models import Board, BoardEvent, List, Membership, Task
from tests.support.wsclient import nothing

pytestmark = pytest.mark.django_db(transaction=True)

ROLES = ("anonymous", "nonmember", "viewer", "editor", "owner")
BOARDS = ("board-1", "board-2")

# Who plays each role on each board. alice/bob/carol come from `manage.py demo`;
# the fixture adds vic (viewer of both), ed (editor of board-2) and nora (no membership).
PLAYERS = {
    "board-1": {"anonymous": None, "nonmember": "nora", "viewer": "vic", "editor": "bob", "owner": "alice"},
    "board-2": {"anonymous": None, "nonmember": "bob", "viewer": "vic", "editor": "ed", "owner": "carol"},
}
TODO = {"board-1": "list-todo", "board-2": "b2-todo"}
DONE = {"board-1": "list-done", "board-2": "b2-done"}

F = "forbidden"
# WebSocket: the reply's type, or its error code.          anonymous nonmember  viewer    editor    owner
WS_EXPECTED = {
    ("board-1", "ping"):        ("pong",      "pong",      "pong",   "pong",   "pong"),
    ("board-1", "join"):        ("joined",    "joined",    "joined", "joined", "joined"),
    ("board-1", "leave"):       ("left",      "left",      "left",   "left",   "left"),
    ("board-1", "create_task"): (F,           F,           F,        "ack",    "ack"),
    ("board-1", "move_task"):   (F,           F,           F,        "ack",    "ack"),
    ("board-1", "update_task"): (F,           F,           F,        "ack",    "ack"),
    ("board-1", "delete_task"): (F,           F,           F,        "ack",    "ack"),
    ("board-1", "create_list"): (F,           F,           F,        "ack",    "ack"),
    ("board-1", "update_list"): (F,           F,           F,        "ack",    "ack"),
    ("board-1", "move_list"):   (F,           F,           F,        "ack",    "ack"),
    ("board-1", "delete_list"): (F,           F,           F,        "ack",    "ack"),
    ("board-2", "ping"):        ("pong",      "pong",      "pong",   "pong",   "pong"),
    ("board-2", "join"):        (F,           F,           "joined", "joined", "joined"),
    ("board-2", "leave"):       ("not_joined", "not_joined", "left", "left",   "left"),
    ("board-2", "create_task"): (F,           F,           F,        "ack",    "ack"),
    ("board-2", "move_task"):   (F,           F,           F,        "ack",    "ack"),
    ("board-2", "update_task"): (F,           F,           F,        "ack",    "ack"),
    ("board-2", "delete_task"): (F,           F,           F,        "ack",    "ack"),
    ("board-2", "create_list"): (F,           F,           F,        "ack",    "ack"),
    ("board-2", "update_list"): (F,           F,           F,        "ack",    "ack"),
    ("board-2", "move_list"):   (F,           F,           F,        "ack",    "ack"),
    ("board-2", "delete_list"): (F,           F,           F,        "ack",    "ack"),
}
# REST: the HTTP status ("list" is whether the board is in GET /api/boards/).
REST_EXPECTED = {
    ("board-1", "list"):        (True,        True,        True,     True,     True),
    ("board-1", "detail"):      (200,         200,         200,      200,      200),
    ("board-1", "events"):      (200,         200,         200,      200,      200),
    ("board-1", "get_task"):    (200,         200,         200,      200,      200),
    ("board-1", "create"):      (401,         403,         403,      201,      201),
    ("board-1", "patch"):       (401,         403,         403,      200,      200),
    ("board-1", "delete"):      (401,         403,         403,      204,      204),
    ("board-1", "members"):     (200,         200,         200,      200,      200),
    ("board-1", "activity"):    (200,         200,         200,      200,      200),
    ("board-1", "create_list"): (401,         403,         403,      201,      201),
    ("board-1", "patch_list"):  (401,         403,         403,      200,      200),
    ("board-1", "delete_list"): (401,         403,         403,      204,      204),
    ("board-1", "add_member"):  (401,         403,         403,      403,      201),
    ("board-1", "patch_member"): (401,        403,         403,      403,      200),
    ("board-1", "remove_member"): (401,       403,         403,      403,      204),
    ("board-1", "patch_board"): (401,         403,         403,      403,      200),
    ("board-2", "list"):        (False,       False,       True,     True,     True),
    ("board-2", "detail"):      (403,         403,         200,      200,      200),
    ("board-2", "events"):      (403,         403,         200,      200,      200),
    ("board-2", "get_task"):    (403,         403,         200,      200,      200),
    ("board-2", "create"):      (401,         403,         403,      201,      201),
    ("board-2", "patch"):       (401,         403,         403,      200,      200),
    ("board-2", "delete"):      (401,         403,         403,      204,      204),
    ("board-2", "members"):     (403,         403,         200,      200,      200),
    ("board-2", "activity"):    (403,         403,         200,      200,      200),
    ("board-2", "create_list"): (401,         403,         403,      201,      201),
    ("board-2", "patch_list"):  (401,         403,         403,      200,      200),
    ("board-2", "delete_list"): (401,         403,         403,      204,      204),
    ("board-2", "add_member"):  (401,         403,         403,      403,      201),
    ("board-2", "patch_member"): (401,        403,         403,      403,      200),
    ("board-2", "remove_member"): (401,       403,         403,      403,      204),
    ("board-2", "patch_board"): (401,         403,         403,      403,      200),
}
WS_ACTIONS = (
    "ping", "join", "leave", "create_task", "move_task", "update_task", "delete_task",
    "create_list", "update_list", "move_list", "delete_list",
)
REST_READS = ("detail", "events", "get_task", "members", "activity")
REST_CHANGES = (
    "create", "patch", "delete", "create_list", "patch_list", "delete_list",
    "add_member", "patch_member", "remove_member", "patch_board",
)
REST_ACTIONS = ("list",) + REST_READS + REST_CHANGES
MUTATIONS = set(WS_ACTIONS[3:]) | set(REST_CHANGES)


def expected(table, board, role, actions):
    return {action: table[(board, action)][ROLES.index(role)] for action in actions}


@pytest.fixture
def matrix(users):
    """Extra players, and one task per change so each action has its own target."""
    User = get_user_model()
    for name in ("vic", "ed", "nora"):
        User.objects.create_user(name, password="liveboard-demo")
    board1, board2 = Board.objects.get(slug="board-1"), Board.objects.get(slug="board-2")
    Membership.objects.create(user=User.objects.get(username="vic"), board=board1, role=Membership.VIEWER)
    Membership.objects.create(user=User.objects.get(username="vic"), board=board2, role=Membership.VIEWER)
    Membership.objects.create(user=User.objects.get(username="ed"), board=board2, role=Membership.EDITOR)
    targets = {}
    for board in BOARDS:
        lst = List.objects.get(pk=TODO[board])
        for action in ("move", "update", "delete", "get"):
            targets[(board, action)] = Task.objects.create(list=lst, title=f"{board} {action} target").pk
        b = Board.objects.get(slug=board)
        for action in ("update_list", "move_list", "delete_list"):  # empty columns to change
            targets[(board, action)] = List.objects.create(board=b, name=f"{action} target").pk
        # members to change: one to add, one to promote, one to remove
        targets[(board, "add_member")] = User.objects.create_user(f"new-{board}").username
        for action in ("patch_member", "remove_member"):
            user = User.objects.create_user(f"{action}-{board}")
            Membership.objects.create(user=user, board=b, role=Membership.VIEWER)
            targets[(board, action)] = user.username
    return targets


def board_state(board):
    b = Board.objects.get(slug=board)
    return (
        b.last_seq,
        BoardEvent.objects.filter(board=b).count(),
        sorted(Task.objects.filter(list__board=b).values_list("pk", "list_id", "title", "position", "version")),
        sorted(List.objects.filter(board=b).values_list("pk", "name", "position")),
        sorted(Membership.objects.filter(board=b).values_list("user__username", "role")),
        (b.name, b.visibility),
    )


def ws_frames(board, targets):
    return {
        "ping": {"type": "ping"},
        "join": {"type": "join", "boardId": board},
        "leave": {"type": "leave", "boardId": board},
        "create_task": {"type": "create_task", "boardId": board, "listId": TODO[board], "title": "matrix"},
        "move_task": {"type": "move_task", "taskId": targets[(board, "move")], "listId": DONE[board], "position": 0},
        "update_task": {"type": "update_task", "taskId": targets[(board, "update")], "title": "changed"},
        "delete_task": {"type": "delete_task", "taskId": targets[(board, "delete")]},
        "create_list": {"type": "create_list", "boardId": board, "name": "matrix"},
        "update_list": {"type": "update_list", "listId": targets[(board, "update_list")], "name": "renamed"},
        "move_list": {"type": "move_list", "listId": targets[(board, "move_list")], "position": 0},
        "delete_list": {"type": "delete_list", "listId": targets[(board, "delete_list")]},
    }


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("board", BOARDS)
async def test_websocket_permission_matrix(connect, matrix, board, role):
    comm = await connect(PLAYERS[board][role])
    frames = ws_frames(board, matrix)
    before = await sync_to_async(board_state)(board)
    outcome, successes = {}, 0
    for action in WS_ACTIONS:
        if action == "leave":  # leave what the join just did (or did not) join
            await comm.send_json_to(frames["join"])
            await comm.receive_json_from(timeout=3)
        await comm.send_json_to({**frames[action], "ref": action})
        reply = await comm.receive_json_from(timeout=3)
        assert reply.get("ref") == action, reply
        outcome[action] = reply["code"] if reply["type"] == "error" else reply["type"]
        if reply["type"] == "error":
            assert set(reply) == {"type", "code", "error", "ref"}, reply  # no task, no content
        elif action in MUTATIONS:
            successes += 1
    assert outcome == expected(WS_EXPECTED, board, role, WS_ACTIONS)
    after = await sync_to_async(board_state)(board)
    if successes == 0:
        assert after == before  # every refused change changed nothing
    else:
        assert after[0] == before[0] + successes  # one event per accepted change
    await nothing(comm, timeout=0.05)


def api_client(username):
    client = APIClient()
    if username:
        user = get_user_model().objects.get(username=username)
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("board", BOARDS)
def test_rest_permission_matrix(matrix, board, role):
    client = api_client(PLAYERS[board][role])
    before = board_state(board)
    task = matrix
    responses = {
        "detail": client.get(f"/api/boards/{board}/"),
        "events": client.get(f"/api/boards/{board}/events?since=0"),
        "get_task": client.get(f"/api/tasks/{task[(board, 'get')]}/"),
        "create": client.post("/api/tasks/", {"title": "matrix", "listId": TODO[board]}, format="json"),
        "patch": client.patch(f"/api/tasks/{task[(board, 'update')]}/", {"title": "changed"}, format="json"),
        "delete": client.delete(f"/api/tasks/{task[(board, 'delete')]}/"),
        "members": client.get(f"/api/boards/{board}/members/"),
        "activity": client.get(f"/api/boards/{board}/activity"),
        "create_list": client.post("/api/lists/", {"boardId": board, "name": "matrix"}, format="json"),
        "patch_list": client.patch(f"/api/lists/{task[(board, 'update_list')]}/", {"name": "renamed"}, format="json"),
        "delete_list": client.delete(f"/api/lists/{task[(board, 'delete_list')]}/"),
        "add_member": client.post(
            f"/api/boards/{board}/members/", {"username": task[(board, "add_member")], "role": "editor"}, format="json"
        ),
        "patch_member": client.patch(
            f"/api/boards/{board}/members/{task[(board, 'patch_member')]}/", {"role": "editor"}, format="json"
        ),
        "remove_member": client.delete(f"/api/boards/{board}/members/{task[(board, 'remove_member')]}/"),
        "patch_board": client.patch(f"/api/boards/{board}/", {"name": "Renamed board"}, format="json"),
    }
    listing = client.get("/api/boards/")
    assert listing.status_code == 200
    outcome = {"list": board in [b["id"] for b in listing.json()]}
    outcome.update({action: resp.status_code for action, resp in responses.items()})
    assert outcome == expected(REST_EXPECTED, board, role, REST_ACTIONS)

    for action, resp in responses.items():
        if resp.status_code == 403 and action in REST_READS:
            assert set(resp.json()) == {"detail", "code"}, resp.json()  # nothing of the board's content
            assert resp.json()["code"] == "forbidden"
    successes = sum(1 for a in REST_CHANGES if responses[a].status_code < 300)
    after = board_state(board)
    if successes == 0:
        assert after == before
    else:
        assert after[0] == before[0] + successes


def test_unknown_board_and_task_are_404_for_everyone(matrix):
    for username in (None, "nora", "alice"):
        client = api_client(username)
        assert client.get("/api/boards/board-404/").status_code == 404
        assert client.get("/api/boards/board-404/events?since=0").status_code == 404
        assert client.get("/api/tasks/999999/").status_code == 404


async def test_unknown_board_and_task_are_not_found_on_the_socket(connect, matrix):
    comm = await connect("alice")
    for frame in (
        {"type": "join", "boardId": "board-404"},
        {"type": "create_task", "boardId": "board-404", "listId": "list-404", "title": "x"},
        {"type": "update_task", "taskId": 999999, "title": "x"},
        {"type": "delete_task", "taskId": 999999},
    ):
        await comm.send_json_to(frame)
        reply = await comm.receive_json_from(timeout=3)
        assert (reply["type"], reply["code"]) == ("error", "not_found"), (frame, reply)
