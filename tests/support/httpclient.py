"""
HTTP helpers for the realtime HTTP doors (SSE, polling):

* in-process: drive `boardsite.asgi.application` with an ASGI http scope —
  the same router, auth middleware and consumers daphne runs;
* over the network: a small blocking Server-Sent Events reader for a real
  daphne (tests/support/servers.py), plus JSON GET/POST.
"""

import http.client
import json
import queue
import socket
import threading
import uuid
from urllib.parse import urlsplit

from channels.layers import channel_layers
from channels.testing import ApplicationCommunicator


def http_scope(path, query="", headers=()):
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query.encode(),
        "headers": [(b"host", b"127.0.0.1:8000"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


class AsgiHttp:
    """One in-process HTTP request to the real ASGI application."""

    def __init__(self, path, query="", headers=(), method="GET", body=b""):
        from boardsite.asgi import application

        if body:
            headers = [*headers, (b"content-length", str(len(body)).encode())]
        scope = http_scope(path, query, headers)
        scope["method"] = method
        self.comm = ApplicationCommunicator(application, scope)
        self.status = None
        self.headers = {}
        self.buffer = b""
        self.complete = False
        self.body = body

    async def start(self):
        await self.comm.send_input({"type": "http.request", "body": self.body, "more_body": False})
        return self

    async def _next(self, timeout):
        message = await self.comm.receive_output(timeout)
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = {k.decode().lower(): v.decode() for k, v in message.get("headers", [])}
            return message
        assert message["type"] == "http.response.body", message
        self.buffer += message.get("body", b"")
        if not message.get("more_body", False):
            self.complete = True
        return message

    async def response(self, timeout=3):
        """Wait for the whole response: (status, JSON body)."""
        while not self.complete:
            await self._next(timeout)
        return self.status, json.loads(self.buffer)

    async def has_output(self):
        return not self.comm.output_queue.empty()

    async def events(self, count, timeout=3, comments=False):
        """The next `count` SSE events (dicts), reading more chunks as needed."""
        got = []
        while len(got) < count:
            event, rest = _take_event(self.buffer)
            if event is None:
                await self._next(timeout)
                continue
            self.buffer = rest
            if event.get("comment") is not None and not comments:
                continue
            got.append(event)
        return got

    async def close(self):
        """The client goes away."""
        await self.comm.send_input({"type": "http.disconnect"})
        await self.comm.wait(3)


def _take_event(buffer):
    text = buffer.decode("utf-8")
    if "\n\n" not in text:
        return None, buffer
    block, rest = text.split("\n\n", 1)
    return parse_sse_block(block), rest.encode("utf-8")


def parse_sse_block(block):
    event = {}
    data = []
    for line in block.split("\n"):
        if line.startswith(":"):
            event["comment"] = line[1:].strip()
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            data.append(value)
        elif name in ("id", "event", "retry"):
            event[name] = value
    if data:
        event["data"] = json.loads("\n".join(data))
    return event


class SSEStream:
    """Blocking SSE reader over a real socket; events arrive in a queue."""

    def __init__(self, base_url, path, headers=None, timeout=10):
        parts = urlsplit(base_url)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
        self.conn.request("GET", path, headers={"Accept": "text/event-stream", **(headers or {})})
        self.sock = self.conn.sock
        self.response = self.conn.getresponse()
        self.status = self.response.status
        self.headers = {k.lower(): v for k, v in self.response.getheaders()}
        self.queue = queue.Queue()
        if self.status == 200:
            self.thread = threading.Thread(target=self._read, daemon=True)
            self.thread.start()
        else:
            self.body = json.loads(self.response.read() or b"null")

    def _read(self):
        lines = []
        try:
            while True:
                raw = self.response.readline()
                if not raw:
                    break
                line = raw.decode("utf-8").rstrip("\r\n")
                if line:
                    lines.append(line)
                    continue
                if lines:
                    self.queue.put(parse_sse_block("\n".join(lines)))
                    lines = []
        except Exception:  # closed under our feet (close()), or the server went away
            pass
        self.queue.put(None)  # end of stream

    def next(self, timeout=5, comments=False):
        while True:
            event = self.queue.get(timeout=timeout)
            if event is None or comments or event.get("comment") is None:
                return event

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.conn.close()


def http_json(base_url, method, path, body=None, headers=None, timeout=10):
    parts = urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        payload = json.dumps(body).encode() if body is not None else None
        hdrs = {"Content-Type": "application/json", **(headers or {})}
        conn.request(method, path, body=payload, headers=hdrs)
        resp = conn.getresponse()
        raw = resp.read()
        ctype = resp.getheader("content-type", "")
        return resp.status, (json.loads(raw) if raw and "json" in ctype else raw)
    finally:
        conn.close()


def isolated_layer(settings, **config):
    """Give this test its own channel layer (fresh backend, own Redis prefix).

    `config` overrides the layer CONFIG (e.g. capacity). With `capacity`
    under Redis, the core RedisChannelLayer is used, since the pub/sub layer
    has no per-channel capacity.
    """
    layers = {name: dict(value) for name, value in settings.CHANNEL_LAYERS.items()}
    default = layers["default"]
    cfg = dict(default.get("CONFIG", {}))
    if "redis" in default["BACKEND"].lower():
        cfg["prefix"] = f"lbtest-{uuid.uuid4().hex[:8]}"
        if "capacity" in config:
            default["BACKEND"] = "channels_redis.core.RedisChannelLayer"
            cfg.setdefault("expiry", 60)
    cfg.update(config)
    default["CONFIG"] = cfg
    settings.CHANNEL_LAYERS = layers
    channel_layers.backends.clear()
    return default


async def group_members(group):
    """Channel names in a group of the default layer (in-memory, pub/sub or core Redis)."""
    from channels.layers import InMemoryChannelLayer, get_channel_layer

    layer = get_channel_layer()
    if isinstance(layer, InMemoryChannelLayer):
        return set(layer.groups.get(group, {}))
    if "RedisPubSubChannelLayer" in {cls.__name__ for cls in type(layer).__mro__}:  # or a subclass
        return set(layer.groups.get(layer._get_group_channel_name(group), set()))
    key = layer._group_key(group)
    members = await layer.connection(layer.consistent_hash(group)).zrange(key, 0, -1)
    return {m.decode() if isinstance(m, bytes) else m for m in members}
