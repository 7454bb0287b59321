"""
The security edges over a real daphne process and a real WebSocket client
(SPEC §4 close codes, §7, §10): what the in-process communicator cannot show —
that daphne really sends 4403/4401/1009/1008, that its transport size cap
sits above the app's so `too_large` comes first, that a closed abuser is
cleaned out of presence, that a flood does not starve other clients, and
that tickets never reach the access log.
"""

import asyncio
import json
import time
import urllib.request

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from rest_framework.authtoken.models import Token
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed

from boards import tickets
from tests.conftest import session_cookie
from tests.support.servers import run_daphne

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = "http://localhost:8000"


async def recv_json(ws, timeout=5):
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def close_code(ws, timeout=5):
    """Read (and return) frames until the server closes; then its close code."""
    frames = []
    try:
        while True:
            frames.append(json.loads(await asyncio.wait_for(ws.recv(), timeout)))
    except ConnectionClosed as exc:
        return (exc.rcvd.code if exc.rcvd else None), frames


async def joined_socket(url, board="board-1", **kwargs):
    ws = await ws_connect(url, **kwargs)
    await ws.send(json.dumps({"type": "join", "boardId": board}))
    reply = await recv_json(ws)
    assert reply["type"] == "joined", reply
    return ws


async def next_of(ws, kind, timeout=5):
    while True:
        frame = await recv_json(ws, timeout)
        if frame["type"] == kind:
            return frame


def http(url, method="GET", body=None, headers=None):
    req = urllib.request.Request(url, method=method, data=body, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def daphne_size_flags():
    """The transport caps of settings, as a deployment passes them to daphne (README)."""
    return [
        "--websocket-max-message-size",
        str(settings.DAPHNE_WEBSOCKET_MAX_MESSAGE_SIZE),
        "--websocket-max-frame-size",
        str(settings.DAPHNE_WEBSOCKET_MAX_FRAME_SIZE),
    ]


async def test_close_codes_cleanup_and_quiet_logs_over_real_daphne(users):
    secret = "not-a-real-ticket-" + "s3cr3t"
    ticket = await sync_to_async(tickets.issue)(users["carol"])
    cookie = (await sync_to_async(session_cookie)(users["alice"])).decode()
    with run_daphne(*daphne_size_flags()) as server:
        url = server.ws_url

        # Foreign Origin (cookie or not) → 4403; a bad ticket → 4401.
        async with ws_connect(url, origin="http://evil.example", additional_headers={"Cookie": cookie}) as ws:
            assert (await close_code(ws)) == (4403, [])
        async with ws_connect(f"{url}?ticket={secret}") as ws:
            assert (await close_code(ws)) == (4401, [])

        # A good ticket is carol; used once, it is a bad ticket.
        async with ws_connect(f"{url}?ticket={ticket}") as ws:
            await ws.send('{"type":"join","boardId":"board-2"}')
            assert [(u["id"], u["name"]) for u in (await recv_json(ws))["users"]] == [(users["carol"].pk, "carol")]
        async with ws_connect(f"{url}?ticket={ticket}") as ws:
            assert (await close_code(ws)) == (4401, [])

        # Own Origin + session cookie → alice.
        async with ws_connect(url, origin=ORIGIN, additional_headers={"Cookie": cookie}) as ws:
            await ws.send('{"type":"join","boardId":"board-1"}')
            assert [(u["id"], u["name"]) for u in (await recv_json(ws))["users"]] == [(users["alice"].pk, "alice")]

        observer = await joined_socket(url)
        try:
            # Over the app's limit (64 KiB) but under daphne's cap: too_large, then 1009.
            big = await joined_socket(url)
            assert (await next_of(observer, "user_joined"))["viewers"] == 2
            await big.send(json.dumps({"type": "ping", "pad": "x" * 70_000}))
            code, frames = await close_code(big)
            assert code == 1009
            assert [f["code"] for f in frames] == ["too_large"]
            # The consumer ran its disconnect: the room hears user_left.
            assert (await next_of(observer, "user_left"))["viewers"] == 1

            # Over daphne's cap (4 x 64 KiB): the transport itself refuses with 1009.
            huge = await ws_connect(url)
            await huge.send("x" * 300_000)
            assert (await close_code(huge)) == (1009, [])

            # A flood: pongs while the bucket lasts, then rate_limited, then 1008.
            flooder = await joined_socket(url)
            assert (await next_of(observer, "user_joined"))["viewers"] == 2
            try:
                for _ in range(300):
                    await flooder.send('{"type":"ping"}')
            except ConnectionClosed:
                pass
            code, frames = await close_code(flooder)
            assert code == 1008
            kinds = [f.get("code", f["type"]) for f in frames]
            assert kinds.count("pong") >= 39  # the burst (40) less the join's token; refill may add a few
            assert kinds[-20:] == ["rate_limited"] * 20  # LIVEBOARD_RATE_STRIKES warnings, then the close
            assert (await next_of(observer, "user_left"))["viewers"] == 1

            # The observer was served throughout.
            await observer.send('{"type":"ping","ref":"still-here"}')
            assert (await next_of(observer, "pong"))["ref"] == "still-here"
        finally:
            await observer.close()

        # Tickets and tokens in an HTTP query string are redacted in the access log.
        status, _ = await asyncio.to_thread(http, f"{server.http_url}/api/boards/?ticket={secret}&token=t0ken-s3cr3t")
        assert status == 200
        await asyncio.sleep(0.3)
        log = server.output()

    assert "WSCONNECT /ws/" in log  # the access log was on
    assert "GET /api/boards/?ticket=[redacted]&token=[redacted]" in log
    for leaked in (secret, ticket, "t0ken-s3cr3t"):
        assert leaked not in log
    assert "invalid close code" not in log
    assert "Traceback" not in log


@pytest.mark.parametrize("batch", ["1", "0"], ids=["writes-batched", "writes-at-once"])
async def test_a_burst_reaches_every_viewer_whole_and_in_order_over_real_daphne(users, batch):
    """boards/tuning/daphne_speed.py sends a turn's frames per socket in one send()
    (LIVEBOARD_WRITE_BATCH); with it on or off, a burst of pipelined changes
    reaches every viewer complete, once each, in seq order, and the
    publisher gets every ack; a late joiner gets the replay whole."""
    cookie = (await sync_to_async(session_cookie)(users["bob"])).decode()
    changes = 120
    with run_daphne(LIVEBOARD_WRITE_BATCH=batch, LIVEBOARD_RATE_LIMIT="100000", LIVEBOARD_RATE_BURST="100000") as server:
        viewers = [await joined_socket(server.ws_url) for _ in range(4)]
        publisher = await joined_socket(server.ws_url, origin=ORIGIN, additional_headers={"Cookie": cookie})
        for i in range(changes):  # pipelined: several events per loop turn
            await publisher.send(
                json.dumps({"type": "create_task", "ref": str(i), "boardId": "board-1", "listId": "list-todo", "title": f"burst {i}"})
            )
        acks = [await next_of(publisher, "ack") for _ in range(changes)]
        assert [a["ref"] for a in acks] == [str(i) for i in range(changes)]
        seqs = [a["seq"] for a in acks]
        assert seqs == list(range(seqs[0], seqs[0] + changes))
        for ws in viewers:
            got = [await next_of(ws, "task_created") for _ in range(changes)]
            assert [f["seq"] for f in got] == seqs
            assert [f["task"]["title"] for f in got] == [f"burst {i}" for i in range(changes)]
            await ws.send('{"type":"ping","ref":"end"}')
            after = []
            while (frame := await recv_json(ws))["type"] != "pong":
                after.append(frame["type"])
            assert "task_created" not in after  # nothing twice
            assert frame["seqs"] == {"board-1": seqs[-1]}
            await ws.close()
        # A late viewer's replay: `joined`, then the events, written in one loop turn.
        late = await ws_connect(server.ws_url)
        await late.send(json.dumps({"type": "join", "boardId": "board-1", "since": seqs[0] - 1}))
        assert (await recv_json(late))["type"] == "joined"
        replay = [await recv_json(late) for _ in range(changes)]
        assert [(f["type"], f["seq"]) for f in replay] == [("task_created", seq) for seq in seqs]
        await late.close()
        await publisher.close()
        assert "Traceback" not in server.output()


async def test_a_flood_does_not_starve_other_clients_over_real_daphne(users):
    token = (await sync_to_async(Token.objects.get_or_create)(user=users["bob"]))[0].key
    # Strikes out of reach: the flooder keeps flooding for the whole test.
    with run_daphne(LIVEBOARD_RATE_STRIKES=10**9) as server:
        url = server.ws_url
        observer = await joined_socket(url)
        flooder = await joined_socket(url)
        await next_of(observer, "user_joined")
        stop = asyncio.Event()
        sent = {"n": 0}
        replies = {}

        async def flood():
            frame = json.dumps({"type": "update_task", "taskId": 1, "junk": "y" * 2000})
            while not stop.is_set():
                await flooder.send(frame)
                sent["n"] += 1
                if sent["n"] % 50 == 0:
                    await asyncio.sleep(0)

        async def drain():
            async for text in flooder:
                code = json.loads(text).get("code")
                replies[code] = replies.get(code, 0) + 1

        tasks = [asyncio.create_task(flood()), asyncio.create_task(drain())]
        try:
            await asyncio.sleep(0.2)
            latencies = []
            for i in range(20):
                started = time.monotonic()
                await observer.send(json.dumps({"type": "ping", "ref": str(i)}))
                pong = await next_of(observer, "pong", timeout=3)
                assert pong["ref"] == str(i)
                latencies.append(time.monotonic() - started)
                await asyncio.sleep(0.03)
            # A change made through the REST API of the same server reaches the observer.
            status, body = await asyncio.to_thread(
                http,
                f"{server.http_url}/api/tasks/",
                "POST",
                json.dumps({"title": "during the flood", "listId": "list-todo"}).encode(),
                {"Authorization": f"Token {token}", "Content-Type": "application/json"},
            )
            assert status == 201, body
            event = await next_of(observer, "task_created", timeout=5)
            assert event["task"]["title"] == "during the flood"
        finally:
            stop.set()
            tasks[0].cancel()
            await asyncio.gather(tasks[0], return_exceptions=True)
            await flooder.close()
            await asyncio.gather(tasks[1], return_exceptions=True)
            await observer.close()
    assert sent["n"] > 500
    assert replies.get("rate_limited", 0) > 100
    assert max(latencies) < 2, latencies


async def test_runserver_honours_the_size_settings_and_redacts_its_log(demo):
    # LIVEBOARD_MAX_FRAME_BYTES=1000 → DAPHNE_WEBSOCKET_MAX_*_SIZE default to 4000.
    with run_daphne(runserver=True, LIVEBOARD_MAX_FRAME_BYTES=1000) as server:
        async with ws_connect(server.ws_url) as ws:
            await ws.send(json.dumps({"type": "ping", "pad": "x" * 2000}))
            code, frames = await close_code(ws)
        assert (code, [f["code"] for f in frames]) == (1009, ["too_large"])
        async with ws_connect(server.ws_url) as ws:
            await ws.send("x" * 5000)
            assert (await close_code(ws)) == (1009, [])
        async with ws_connect(f"{server.ws_url}?ticket=wr0ng-t1cket") as ws:
            assert (await close_code(ws)) == (4401, [])
        status, _ = await asyncio.to_thread(http, f"{server.http_url}/api/boards/?ticket=t1cket-s3cr3t")
        assert status == 200
        await asyncio.sleep(0.3)
        log = server.output()
    assert "/api/boards/?ticket=[redacted]" in log
    assert "t1cket-s3cr3t" not in log and "wr0ng-t1cket" not in log
    assert "invalid close code" not in log and "Traceback" not in log
