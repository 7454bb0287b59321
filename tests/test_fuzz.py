"""
Hostile input (SPEC §4, §10) thrown at the real ASGI application.

A Hypothesis property test sends generated junk — random JSON shapes and
types, huge and deeply nested values, unicode edge cases (lone surrogates,
NULs, astral characters), known message types carrying junk fields, oversized
and binary frames — over a logged-in editor's socket, and checks after every
example that each frame got exactly one `error` reply (never an internal
error), the socket still answers `ping`, the database is unchanged and a
client watching the board received nothing. Plus: a flooder does not starve
the others.
"""

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from hypothesis import HealthCheck, given, settings as hsettings
from hypothesis import strategies as st

from boards.models import Board, BoardEvent, Membership, Task, WsTicket
from tests.support.wsclient import join, nothing, send

pytestmark = pytest.mark.django_db(transaction=True)

FRAME_LIMIT = 4096  # LIVEBOARD_MAX_FRAME_BYTES for the fuzz test: some frames go over it
FIELDS = {
    "join": {"boardId": "str", "since": "int?"},
    "leave": {"boardId": "str"},
    "ping": {},
    "create_task": {"boardId": "str", "listId": "str", "title": "str", "description": "str", "position": "int"},
    "move_task": {"taskId": "int", "listId": "str", "position": "int", "version": "int"},
    "update_task": {"taskId": "int", "title": "str", "description": "str", "version": "int"},
    "delete_task": {"taskId": "int", "version": "int"},
}
ERROR_CODES = {"bad_json", "bad_request", "unknown_type", "too_large"}

# --- strategies -----------------------------------------------------------------

any_char = st.characters(exclude_categories=())  # includes lone surrogates (Cs), controls, private use
edge_strings = st.sampled_from(
    ["", " ", "\x00", "\ud800", "\udfff", "a\udc80b", "\U0001f600", "\u202e", "\ufeff", "board-1", "list-todo",
     "null", "true", "0", "-1", "1e999", "\\", '"', "board-1\x00", "ｂｏａｒｄ－１", "Board-1 ", "%s%s%n", "${x}"]
)
text = st.one_of(edge_strings, st.text(any_char, max_size=40), st.text(max_size=300))
huge_int = st.sampled_from([2**31, 2**53 + 1, 2**63, 2**64, -(2**63) - 1, 10**30, -1, 0])
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), huge_int, st.floats(allow_nan=True, allow_infinity=True), text
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=12,
)


def invalid_for(kind):
    """Values a field of this kind must refuse."""
    not_int = st.one_of(text, st.floats(allow_nan=True, allow_infinity=True), st.booleans(),
                        st.lists(scalars, max_size=2), st.dictionaries(text, scalars, max_size=2),
                        st.integers(max_value=-1), st.integers(min_value=2**63))
    if kind == "int":
        return st.one_of(not_int, st.none())
    if kind == "int?":
        return not_int
    return st.one_of(  # "str"
        st.integers(), st.floats(allow_nan=True), st.booleans(), st.none(), st.lists(scalars, max_size=2),
        st.dictionaries(text, scalars, max_size=2),
        st.text(min_size=1, max_size=5).map(lambda s: s + "\ud800"),  # a lone surrogate
        st.text(max_size=5).map(lambda s: s + "\x00"),
        st.integers(10_001, 12_000).map(lambda n: "x" * n),  # longer than any field allows
    )


@st.composite
def poisoned_message(draw):
    """A known type, plausible fields — and at least one thing wrong with it."""
    kind = draw(st.sampled_from(sorted(FIELDS)))
    fields = FIELDS[kind]
    message = {"type": kind}
    for name in fields:
        if draw(st.booleans()):
            message[name] = draw(json_values)
    if draw(st.booleans()):
        message["ref"] = draw(st.one_of(st.text(max_size=64), json_values))
    poisons = ["unknown_field", "bad_ref"] + (["bad_value"] if fields else [])
    poison = draw(st.sampled_from(poisons))
    if poison == "unknown_field":
        name = draw(text.filter(lambda k: k not in fields and k not in ("type", "ref")))
        message[name] = draw(json_values)
    elif poison == "bad_ref":
        message["ref"] = draw(st.one_of(st.text(min_size=65, max_size=80), st.integers(), st.none().map(lambda _: []),
                                        st.dictionaries(text, scalars, max_size=2), st.booleans()))
    else:
        name = draw(st.sampled_from(sorted(fields)))
        message[name] = draw(invalid_for(fields[name]))
    return message


def to_json(value, ensure_ascii):
    return json.dumps(value, ensure_ascii=ensure_ascii)


@st.composite
def frames(draw):
    """('text', str) or ('bytes', bytes)."""
    choice = draw(st.integers(0, 9))
    if choice == 0:
        return "bytes", draw(st.binary(max_size=200))
    if choice == 1:
        return "text", draw(st.text(any_char, max_size=200))  # mostly not JSON at all
    if choice == 2:
        depth = draw(st.integers(1, 3000))
        opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
        return "text", opener * depth + "1" + closer * draw(st.integers(0, depth))
    if choice == 3:
        return "text", draw(st.sampled_from(
            ["", " ", "null", "[]", "{}", '"ping"', "1" * 5000, "1e999", "NaN", "-Infinity", '{"type":"ping"',
             '{"type":"ping"}}', '{"type":"ping","type":"join"}', "\ufeff{}", '{"type":"\\ud800"}',
             '{"type":"ping","ref":"\\udfff","x":0}', '{"\\udc00":1,"type":"ping"}', '{"type":"pi\\u0000ng"}']
        ))
    if choice == 4:  # oversized, somewhere around the limit
        size = draw(st.integers(FRAME_LIMIT - 64, FRAME_LIMIT * 2))
        return "text", json.dumps({"type": "create_task", "title": "x" * size})
    if choice in (5, 6):
        return "text", to_json(draw(json_values), draw(st.booleans()))
    message = draw(poisoned_message())
    return "text", to_json(message, draw(st.booleans()))


# --- the property ---------------------------------------------------------------


def db_state():
    return (
        sorted(Task.objects.values_list("pk", "list_id", "title", "description", "position", "version")),
        sorted(BoardEvent.objects.values_list("board_id", "seq", "type")),
        sorted(Board.objects.values_list("slug", "visibility", "last_seq")),
        sorted(Membership.objects.values_list("user_id", "board_id", "role")),
        WsTicket.objects.count(),
    )


@pytest.fixture
async def fuzz_room(connect, settings):
    settings.LIVEBOARD_MAX_FRAME_BYTES = FRAME_LIMIT
    settings.LIVEBOARD_RATE_LIMIT = 1e9  # the flood test covers rate limiting
    settings.LIVEBOARD_RATE_BURST = 10**9
    watcher = await connect("bob")
    await join(watcher, "board-1")
    room = {"watcher": watcher, "fuzzer": await connect("alice"), "connect": connect}
    room["before"] = await sync_to_async(db_state)()
    return room


async def reply_text(comm):
    raw = await comm.receive_output(timeout=3)
    assert raw["type"] == "websocket.send", raw
    text = raw["text"]
    text.encode("utf-8")  # a real server must be able to send it: no lone surrogates
    return text


@hsettings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.data_too_large, HealthCheck.large_base_example],
)
@given(batch=st.lists(frames(), min_size=1, max_size=5))
async def test_junk_frames_change_nothing_and_break_nothing(fuzz_room, batch):
    for kind, payload in batch:
        fuzzer = fuzz_room["fuzzer"]
        # send_input, not send_to: the latter cannot send an empty frame.
        await fuzzer.send_input({"type": "websocket.receive", kind: payload})
        reply = json.loads(await reply_text(fuzzer))
        assert reply["type"] == "error", (payload[:200], reply)
        assert reply["code"] in ERROR_CODES, (payload[:200], reply)
        if reply["code"] == "too_large":
            assert await fuzzer.receive_output(timeout=3) == {"type": "websocket.close", "code": 1009}
            fuzz_room["fuzzer"] = await fuzz_room["connect"]("alice")
    # Still served, nothing changed, nobody else heard a thing.
    pong = await send(fuzz_room["fuzzer"], type="ping", ref="alive")
    assert pong == {"type": "pong", "seqs": {}, "ref": "alive"}
    assert await sync_to_async(db_state)() == fuzz_room["before"]
    await nothing(fuzz_room["watcher"], timeout=0.02)


async def test_fuzz_room_still_works_after_the_junk(fuzz_room):
    """The fixture's clients are real: a valid change reaches the watcher."""
    ack = await send(fuzz_room["fuzzer"], type="create_task", boardId="board-1", listId="list-todo", title="ok")
    assert ack["type"] == "ack"
    event = await fuzz_room["watcher"].receive_json_from(timeout=3)
    assert (event["type"], event["task"]["title"]) == ("task_created", "ok")


# --- handpicked cases the generator only finds by luck ------------------------------


@pytest.mark.parametrize(
    "frame, code",
    [
        ("[" * 50_000 + "]" * 50_000, "bad_json"),  # deeper than Python's recursion limit
        ('{"type":"\\udfff"}', "unknown_type"),
        ('{"type":"join","boardId":"board-1","\\udc00":1}', "bad_request"),
    ],
)
async def test_edge_frames(connect, settings, frame, code):
    settings.LIVEBOARD_MAX_FRAME_BYTES = 200_000
    comm = await connect("alice")
    await comm.send_to(text_data=frame)
    reply = json.loads(await reply_text(comm))
    assert (reply["type"], reply["code"]) == ("error", code), reply
    assert (await send(comm, type="ping"))["type"] == "pong"


async def test_echoed_lone_surrogates_are_escaped_so_a_real_server_can_send_them(connect):
    comm = await connect("alice")
    await comm.send_to(text_data='{"type":"ping","ref":"\\ud800"}')
    text = await reply_text(comm)
    assert text == '{"type":"pong","seqs":{},"ref":"\\ud800"}'
    assert json.loads(text)["ref"] == "\ud800"
    await comm.send_to(text_data='{"type":"ping","\\udc00":1,"ref":"\U0001f600"}')
    text = await reply_text(comm)
    assert "\\udc00" in text and "\\ud83d\\ude00" in text  # the whole reply is \\u-escaped


def test_rest_deeply_nested_json_is_a_400(users):
    from django.test import Client

    client = Client()
    client.force_login(users["bob"])
    body = "[" * 50_000 + "]" * 50_000
    resp = client.post("/api/tasks/", body, content_type="application/json")
    assert resp.status_code == 400
    assert Task.objects.count() == 5


# --- floods ---------------------------------------------------------------------------


async def test_a_flooder_is_cut_off_and_the_others_keep_being_served(connect, settings):
    settings.LIVEBOARD_RATE_STRIKES = 10**9  # keep flooding for the whole test
    watcher = await connect("bob")
    await join(watcher)
    flooder = await connect("alice")
    await join(flooder)
    assert (await watcher.receive_json_from(timeout=3))["type"] == "user_joined"

    stop = asyncio.Event()
    counts = {"sent": 0, "rate_limited": 0, "pong": 0}

    async def flood():  # ~2,000 frames/s, 100x the sustained rate (client and server share this loop)
        while not stop.is_set():
            for _ in range(10):
                await flooder.send_to(text_data='{"type":"ping"}')
            counts["sent"] += 10
            await asyncio.sleep(0.005)

    async def drain():
        while True:
            frame = await flooder.receive_json_from(timeout=5)
            key = frame.get("code", frame["type"])
            counts[key] = counts.get(key, 0) + 1

    tasks = [asyncio.create_task(flood()), asyncio.create_task(drain())]
    try:
        await asyncio.sleep(0.1)
        for i in range(10):
            assert (await send(watcher, type="ping", ref=str(i)))["ref"] == str(i)
            await asyncio.sleep(0.02)
        # A change by a third party reaches the watcher during the flood.
        bob_ack = await send(watcher, type="create_task", boardId="board-1", listId="list-todo", title="mid-flood")
        assert bob_ack["type"] == "ack"
        carol = await connect(None)
        await join(carol)
        assert (await watcher.receive_json_from(timeout=3))["type"] == "user_joined"
    finally:
        stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    assert counts["sent"] > 200
    assert counts["rate_limited"] > 50
    assert counts["pong"] >= 40  # the burst, then a trickle at the sustained rate


async def test_flooding_on_is_closed_1008_after_the_warnings(connect, settings):
    settings.LIVEBOARD_RATE_LIMIT = 1
    settings.LIVEBOARD_RATE_BURST = 3
    settings.LIVEBOARD_RATE_STRIKES = 5
    watcher = await connect("bob")
    await join(watcher)
    flooder = await connect(None)
    await join(flooder)  # spends one token
    await watcher.receive_json_from(timeout=3)  # user_joined
    for _ in range(20):
        await flooder.send_to(text_data='{"type":"ping"}')
    got = []
    while True:
        out = await flooder.receive_output(timeout=3)
        if out["type"] == "websocket.close":
            break
        got.append(json.loads(out["text"]).get("code", "pong"))
    assert out == {"type": "websocket.close", "code": 1008}
    assert got == ["pong", "pong"] + ["rate_limited"] * 5
    # The watcher hears the flooder leave once the socket is gone.
    await flooder.disconnect()
    left = await watcher.receive_json_from(timeout=3)
    assert (left["type"], left["viewers"]) == ("user_left", 1)
    assert (await send(watcher, type="ping"))["type"] == "pong"
