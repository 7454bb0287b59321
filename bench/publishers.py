"""
Publishers: the connections that make the changes.

Liveboard: editor WebSocket connections (bob, via single-use tickets) send
`update_task` and wait for the `ack` (its seq); REST clients send
`PATCH /api/tasks/<id>/` {title, position} (a `task_moved`). Every change puts
the publish time in the task title (`b@<monotonic ns>`).

python-socketio: a socket per publisher emits `change` with a frame shaped like
Liveboard's `task_updated` (seq from the orchestrator's counter) and waits for
the ack.
"""

import asyncio
import json
import re
import time

from leanws import HttpClient, connect

ACK = re.compile(rb'"type":"(ack|error)".*?"ref":"(\w+)"')
SEQ = re.compile(rb'"seq":(\d+)')
SIO_ACK = re.compile(rb"^43(\d+)\[(\d+)")


class LiveboardWsPublisher:
    def __init__(self, host, port, task_id, token):
        self.host, self.port, self.task_id, self.token = host, port, task_id, token
        self.pending = {}
        self.n = 0

    async def open(self, http):
        status, body = await http.request("POST", "/api/ws-ticket/", {})
        if status != 200 and status != 201:
            raise RuntimeError(f"ws-ticket: {status} {body}")
        self.ws = await connect(self.host, self.port, f"/ws/?ticket={body['ticket']}", self.on_text, time.monotonic_ns)
        return self

    def on_text(self, payload, now):
        m = ACK.search(payload)
        if m is None:
            return
        fut = self.pending.pop(m.group(2).decode(), None)
        if fut is None or fut.done():
            return
        if m.group(1) == b"ack":
            fut.set_result(int(SEQ.search(payload).group(1)))
        else:
            fut.set_exception(RuntimeError(payload.decode(errors="replace")))

    async def change(self):
        self.n += 1
        ref = f"r{self.n}"
        fut = asyncio.get_running_loop().create_future()
        self.pending[ref] = fut
        self.ws.send_text(json.dumps(
            {"type": "update_task", "taskId": self.task_id, "title": f"b@{time.monotonic_ns()}", "ref": ref},
            separators=(",", ":"),
        ))
        return await fut

    def close(self):
        self.ws.close()


class LiveboardRestPublisher:
    def __init__(self, host, port, task_id, token):
        self.http = HttpClient(host, port, {"Authorization": f"Token {token}"})
        self.port = port
        self.task_id = task_id
        self.n = 0

    async def open(self, http=None):
        return self

    async def change(self):
        self.n += 1
        status, body = await self.http.request(
            "PATCH", f"/api/tasks/{self.task_id}/", {"title": f"b@{time.monotonic_ns()}", "position": self.n % 2}
        )
        if status != 200:
            raise RuntimeError(f"PATCH: {status} {body}")
        return body["seq"]

    def close(self):
        self.http.close()


class SocketIOPublisher:
    counter = 0  # the board's seq, shared by all publishers of a run

    def __init__(self, host, port, task_id, token=None):
        self.host, self.port, self.task_id = host, port, task_id
        self.pending = {}
        self.n = 0

    async def open(self, http=None):
        self.ready = asyncio.get_running_loop().create_future()
        self.ws = await connect(self.host, self.port, "/socket.io/?EIO=4&transport=websocket", self.on_text,
                                time.monotonic_ns, bind=lambda ws: setattr(self, "ws", ws))
        await asyncio.wait_for(self.ready, 30)
        return self

    def on_text(self, payload, now):
        if payload == b"2":
            self.ws.send_text(b"3")
        elif payload.startswith(b"0{"):
            self.ws.send_text(b"40")
        elif payload.startswith(b"40") and not self.ready.done():
            self.ready.set_result(True)
        else:
            m = SIO_ACK.search(payload)
            if m:
                fut = self.pending.pop(int(m.group(1)), None)
                if fut and not fut.done():
                    fut.set_result(int(m.group(2)))

    async def change(self):
        cls = type(self)
        cls.counter += 1
        seq = cls.counter
        self.n += 1
        ack = self.n
        fut = asyncio.get_running_loop().create_future()
        self.pending[ack] = fut
        frame = {
            "type": "task_updated", "boardId": "board-1", "seq": seq,
            "task": {"id": self.task_id, "listId": "list-todo", "title": f"b@{time.monotonic_ns()}",
                     "description": "", "position": 0, "version": seq},
        }
        self.ws.send_text(f'42{ack}["change",{json.dumps(frame, separators=(",", ":"))}]')
        return await fut

    def close(self):
        self.ws.close()


async def open_publishers(stack, ws_per_process=2, rest_per_process=1):
    """Publishers spread over every server process of the stack."""
    tasks = list(stack.fixtures["tasks"])
    pubs = []
    for port in stack.ports:
        if stack.kind == "liveboard":
            token = stack.fixtures["token"]
            http = HttpClient("127.0.0.1", port, {"Authorization": f"Token {token}"})
            for _ in range(ws_per_process):
                pubs.append(await LiveboardWsPublisher("127.0.0.1", port, tasks.pop(0), token).open(http))
            for _ in range(rest_per_process):
                pubs.append(await LiveboardRestPublisher("127.0.0.1", port, tasks.pop(0), token).open())
            http.close()
        else:
            SocketIOPublisher.counter = 0
            for _ in range(ws_per_process + rest_per_process):  # socket.io has no REST door: all sockets
                pubs.append(await SocketIOPublisher("127.0.0.1", port, tasks.pop(0)).open())
    return pubs
