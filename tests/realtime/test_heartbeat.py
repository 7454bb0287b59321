"""
Dead peers (issue 4, "Heartbeats"): daphne pings every WebSocket that has
been idle for --ping-interval seconds (default 20) and drops it when no pong
comes within --ping-timeout (default 30). The consumer's disconnect then
runs, so presence keeps no ghost. Shortened here to 1 s + 1 s.
"""

import base64
import json
import os
import socket
import time

import pytest
from websockets.sync.client import connect as ws_connect

from tests.support.servers import run_daphne

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = "http://localhost:8000"


def silent_peer(port):
    """A WebSocket client that joins board-1 and then never reads again: it
    answers no ping, like a laptop that went to sleep or a vanished network."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET /ws/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nOrigin: {ORIGIN}\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    payload = json.dumps({"type": "join", "boardId": "board-1"}).encode()
    mask = os.urandom(4)
    frame = bytes([0x81, 0x80 | len(payload)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    sock.sendall(frame)
    return sock


def next_presence(ws, kind, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        frame = json.loads(ws.recv(timeout=max(0.05, deadline - time.monotonic())))
        if frame["type"] == kind:
            return frame
    raise AssertionError(f"no {kind} within {timeout} s")


def test_daphne_drops_a_silent_peer_and_presence_forgets_it(demo):
    with run_daphne("--ping-interval", "1", "--ping-timeout", "1") as server:
        with ws_connect(server.ws_url, origin=ORIGIN, open_timeout=5) as watcher:
            watcher.send(json.dumps({"type": "join", "boardId": "board-1"}))
            assert json.loads(watcher.recv(timeout=5))["viewers"] == 1
            ghost = silent_peer(server.port)
            try:
                assert next_presence(watcher, "user_joined", 5)["viewers"] == 2
                started = time.monotonic()
                left = next_presence(watcher, "user_left", 12)  # the watcher itself answers pings
                assert left["viewers"] == 1 and left["user"] == {"id": None, "name": "anonymous"}
                assert time.monotonic() - started < 10  # ~4 s: ping within 1-3 s, then 1 s timeout
                watcher.send(json.dumps({"type": "join", "boardId": "board-1"}))  # re-join: current presence
                assert json.loads(watcher.recv(timeout=5))["viewers"] == 1
            finally:
                ghost.close()
