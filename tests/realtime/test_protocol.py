"""join / leave / ping, presence frames and the error codes of SPEC §4."""

import pytest

from tests.support.wsclient import join, nothing, send

pytestmark = pytest.mark.django_db(transaction=True)


async def test_join_replies_joined_with_presence_and_seq(connect):
    alice = await connect("alice")
    reply = await join(alice, ref="r1")
    assert reply == {
        "type": "joined",
        "boardId": "board-1",
        "viewers": 1,
        "users": [{"id": reply["users"][0]["id"], "name": "alice", "status": "active", "lastSeen": reply["users"][0]["lastSeen"]}],
        "seq": 4,
        "ref": "r1",
        "editing": [],
    }


async def test_presence_goes_to_the_others(connect):
    alice = await connect("alice")
    await join(alice)
    bob = await connect("bob")
    joined = await join(bob)
    assert joined["viewers"] == 2
    assert [u["name"] for u in joined["users"]] == ["alice", "bob"]
    frame = await alice.receive_json_from(timeout=2)
    assert frame["type"] == "user_joined"
    assert frame["boardId"] == "board-1"
    assert frame["viewers"] == 2
    assert frame["user"]["name"] == "bob"
    await nothing(bob)

    left = await send(bob, type="leave", boardId="board-1", ref="bye")
    assert left == {"type": "left", "boardId": "board-1", "ref": "bye"}
    frame = await alice.receive_json_from(timeout=2)
    assert frame == {"type": "user_left", "boardId": "board-1", "viewers": 1, "user": frame["user"]}
    assert frame["user"]["name"] == "bob"


async def test_anonymous_viewer_is_counted_not_listed(connect):
    alice = await connect("alice")
    await join(alice)
    anon = await connect(None)
    joined = await join(anon)
    assert joined["viewers"] == 2
    assert [u["name"] for u in joined["users"]] == ["alice"]
    frame = await alice.receive_json_from(timeout=2)
    assert frame["user"] == {"id": None, "name": "anonymous"}


async def test_two_tabs_count_twice_list_once(connect):
    tab1 = await connect("alice")
    tab2 = await connect("alice")
    await join(tab1)
    joined = await join(tab2)
    assert joined["viewers"] == 2
    assert [u["name"] for u in joined["users"]] == ["alice"]


async def test_disconnect_without_leave_tells_the_others(connect):
    alice = await connect("alice")
    await join(alice)
    bob = await connect("bob")
    await join(bob)
    await alice.receive_json_from(timeout=2)  # user_joined
    await bob.disconnect()
    frame = await alice.receive_json_from(timeout=2)
    assert frame["type"] == "user_left"
    assert frame["viewers"] == 1
    carol = await connect("carol")
    assert (await join(carol))["viewers"] == 2


async def test_disconnect_leaves_every_board(connect):
    carol = await connect("carol")
    await join(carol, board="board-1")
    await join(carol, board="board-2")
    watcher1 = await connect("alice")
    await join(watcher1, board="board-1")
    watcher2 = await connect("carol")
    await join(watcher2, board="board-2")
    await carol.receive_json_from(timeout=2)
    await carol.receive_json_from(timeout=2)
    await carol.disconnect()
    assert (await watcher1.receive_json_from(timeout=2))["type"] == "user_left"
    assert (await watcher2.receive_json_from(timeout=2))["type"] == "user_left"


async def test_rejoin_is_not_a_second_presence(connect):
    alice = await connect("alice")
    await join(alice)
    again = await join(alice)
    assert again["viewers"] == 1


async def test_ping_reports_seq_per_joined_board(connect):
    carol = await connect("carol")
    assert await send(carol, type="ping", ref="p") == {"type": "pong", "seqs": {}, "ref": "p"}
    await join(carol, board="board-1")
    await join(carol, board="board-2")
    assert (await send(carol, type="ping"))["seqs"] == {"board-1": 4, "board-2": 1}


@pytest.mark.parametrize(
    "raw, code, text",
    [
        ("{not json", "bad_json", "Frame is not valid JSON"),
        ("[1, 2]", "bad_request", "Frame must be a JSON object"),
        ('"join"', "bad_request", "Frame must be a JSON object"),
        ('{"boardId": "board-1"}', "bad_request", "type is required"),
        ('{"type": 7}', "bad_request", "type is required"),
        ('{"type": "dance"}', "unknown_type", "Unknown type: dance"),
        ('{"type": "join"}', "bad_request", "boardId is required"),
        ('{"type": "join", "boardId": 5}', "bad_request", "boardId: Not a valid string."),
        ('{"type": "join", "boardId": "board-1", "since": "3"}', "bad_request", "since: A whole number is required."),
        ('{"type": "join", "boardId": "board-1", "x": 1}', "bad_request", "x: Unknown field."),
        ('{"type": "leave"}', "bad_request", "boardId is required"),
        ('{"type": "join", "ref": 5, "boardId": "board-1"}', "bad_request", None),
    ],
)
async def test_bad_frames_get_an_error_and_the_socket_stays_open(connect, raw, code, text):
    alice = await connect("alice")
    await alice.send_to(text_data=raw)
    reply = await alice.receive_json_from(timeout=2)
    assert reply["type"] == "error"
    assert reply["code"] == code
    if text:
        assert reply["error"] == text
    assert (await send(alice, type="ping"))["type"] == "pong"


async def test_error_echoes_ref(connect):
    alice = await connect("alice")
    reply = await send(alice, type="join", boardId="nope", ref="abc")
    assert reply == {"type": "error", "code": "not_found", "error": "Unknown board: nope", "ref": "abc"}


async def test_private_board_is_forbidden_not_hidden(connect):
    bob = await connect("bob")
    reply = await send(bob, type="join", boardId="board-2")
    assert reply["code"] == "forbidden"
    anon = await connect(None)
    assert (await send(anon, type="join", boardId="board-2"))["code"] == "forbidden"
    carol = await connect("carol")
    assert (await join(carol, board="board-2"))["viewers"] == 1


async def test_leave_of_a_board_not_joined(connect):
    alice = await connect("alice")
    reply = await send(alice, type="leave", boardId="board-1", ref="x")
    assert reply == {"type": "error", "code": "not_joined", "error": "Not joined to board board-1", "ref": "x"}


async def test_binary_frame_is_refused(connect):
    alice = await connect("alice")
    await alice.send_to(bytes_data=b"\x00\x01")
    assert (await alice.receive_json_from(timeout=2))["code"] == "bad_request"
    assert (await send(alice, type="ping"))["type"] == "pong"


async def test_oversized_frame_gets_too_large_then_close_1009(connect, settings):
    settings.LIVEBOARD_MAX_FRAME_BYTES = 1024
    alice = await connect("alice")
    await alice.send_to(text_data='{"type":"ping","pad":"' + "x" * 2000 + '"}')
    assert (await alice.receive_json_from(timeout=2))["code"] == "too_large"
    assert await alice.receive_output(timeout=2) == {"type": "websocket.close", "code": 1009}


async def test_flood_is_rate_limited_then_closed_1008(connect, settings):
    settings.LIVEBOARD_RATE_LIMIT = 1
    settings.LIVEBOARD_RATE_BURST = 3
    settings.LIVEBOARD_RATE_STRIKES = 2
    alice = await connect("alice")
    for _ in range(3):
        await alice.send_json_to({"type": "ping"})
        assert (await alice.receive_json_from(timeout=2))["type"] == "pong"
    for _ in range(2):
        await alice.send_json_to({"type": "ping"})
        assert (await alice.receive_json_from(timeout=2))["code"] == "rate_limited"
    await alice.send_json_to({"type": "ping"})
    assert await alice.receive_output(timeout=2) == {"type": "websocket.close", "code": 1008}


async def test_board_limit_per_connection(connect, settings):
    settings.LIVEBOARD_MAX_BOARDS_PER_CONNECTION = 1
    carol = await connect("carol")
    await join(carol, board="board-1")
    reply = await send(carol, type="join", boardId="board-2")
    assert reply["code"] == "bad_request"
    assert "at most 1" in reply["error"]
