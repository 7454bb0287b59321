"""
A lean asyncio WebSocket client for the load generator.

One `asyncio.Protocol` per socket, no per-frame coroutines: it parses the
server's (unmasked) frames straight out of the receive buffer and hands each
text payload, as bytes, to a callback. Viewers find the `seq` and the publish
timestamp with one regular-expression search — no JSON parsing — so one load
generator process can keep up with tens of thousands of frames per second.
Both servers under test (Liveboard, python-socketio) are driven with it.

Client frames are masked as RFC 6455 requires; pings are answered.
"""

import asyncio
import base64
import os
import struct

_PONG = 0xA
_PING = 0x9
_CLOSE = 0x8
_TEXT = 0x1
_CONT = 0x0


def _mask(payload, key):
    n = len(payload)
    if not n:
        return payload
    pad = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(pad, "little")).to_bytes(n, "little")


def encode_frame(payload, opcode=_TEXT):
    """A masked client frame."""
    n = len(payload)
    if n < 126:
        header = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 65536:
        header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    key = os.urandom(4)
    return header + key + _mask(payload, key)


class LeanWebSocket(asyncio.Protocol):
    """`on_text(payload_bytes, recv_ns)` is called for every text message."""

    def __init__(self, host, port, path, on_text, clock, on_close=None, headers=()):
        self.host, self.port, self.path = host, port, path
        self.on_text = on_text
        self.on_close = on_close
        self.clock = clock
        self.headers = headers
        self.transport = None
        self.opened = asyncio.get_running_loop().create_future()
        self.closed = asyncio.get_running_loop().create_future()
        self.buf = b""
        self.handshaken = False
        self.fragments = None
        self.close_code = None

    # -- asyncio.Protocol ------------------------------------------------------

    def connection_made(self, transport):
        self.transport = transport
        key = base64.b64encode(os.urandom(16)).decode()
        extra = "".join(f"{k}: {v}\r\n" for k, v in self.headers)
        transport.write(
            (
                f"GET {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n"
            ).encode()
        )

    def data_received(self, data):
        if self.buf:
            data = self.buf + data
            self.buf = b""
        if not self.handshaken:
            end = data.find(b"\r\n\r\n")
            if end < 0:
                self.buf = data
                return
            status = data[: data.find(b"\r\n")]
            if b" 101 " not in status:
                self._fail(ConnectionError(status.decode(errors="replace")))
                return
            self.handshaken = True
            if not self.opened.done():
                self.opened.set_result(True)
            data = data[end + 4 :]
        now = self.clock()
        pos = 0
        size = len(data)
        on_text = self.on_text
        while size - pos >= 2:
            b0 = data[pos]
            length = data[pos + 1] & 0x7F
            head = 2
            if length == 126:
                if size - pos < 4:
                    break
                length = (data[pos + 2] << 8) | data[pos + 3]
                head = 4
            elif length == 127:
                if size - pos < 10:
                    break
                length = int.from_bytes(data[pos + 2 : pos + 10], "big")
                head = 10
            end = pos + head + length
            if end > size:
                break
            opcode = b0 & 0x0F
            payload = data[pos + head : end]
            pos = end
            if opcode == _TEXT and b0 & 0x80:
                on_text(payload, now)
            elif opcode == _TEXT or opcode == _CONT:
                self.fragments = (self.fragments or b"") + payload
                if b0 & 0x80:
                    whole, self.fragments = self.fragments, None
                    on_text(whole, now)
            elif opcode == _PING:
                self.transport.write(encode_frame(payload, _PONG))
            elif opcode == _CLOSE:
                self.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
                self.transport.write(encode_frame(payload[:2], _CLOSE))
                self.transport.close()
                return
        if pos < size:
            self.buf = data[pos:]

    def connection_lost(self, exc):
        if not self.opened.done():
            self.opened.set_exception(exc or ConnectionError("closed during handshake"))
        if not self.closed.done():
            self.closed.set_result(self.close_code)
        if self.on_close:
            self.on_close(self)

    # -- API ---------------------------------------------------------------------

    def _fail(self, exc):
        if not self.opened.done():
            self.opened.set_exception(exc)
        self.transport.close()

    def send_text(self, text):
        if isinstance(text, str):
            text = text.encode()
        self.transport.write(encode_frame(text))

    def close(self):
        if self.transport and not self.transport.is_closing():
            try:
                self.transport.write(encode_frame(struct.pack("!H", 1000), _CLOSE))
            finally:
                self.transport.close()


async def connect(host, port, path, on_text, clock, timeout=30, bind=None, **kwargs):
    """Open a socket; `bind(proto)` runs before any frame can arrive."""
    loop = asyncio.get_running_loop()

    def factory():
        proto = LeanWebSocket(host, port, path, on_text, clock, **kwargs)
        if bind is not None:
            bind(proto)
        return proto

    _, proto = await asyncio.wait_for(loop.create_connection(factory, host, port), timeout)
    await asyncio.wait_for(proto.opened, timeout)
    return proto


class HttpClient:
    """Minimal keep-alive HTTP/1.1 JSON client (one request at a time)."""

    def __init__(self, host, port, headers=()):
        self.host, self.port = host, port
        self.headers = dict(headers)
        self.reader = self.writer = None
        self.lock = asyncio.Lock()

    async def request(self, method, path, body=None):
        import json

        async with self.lock:
            if self.writer is None or self.writer.is_closing():
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            data = json.dumps(body).encode() if body is not None else b""
            headers = {"Host": f"{self.host}:{self.port}", "Content-Length": str(len(data)), **self.headers}
            if body is not None:
                headers["Content-Type"] = "application/json"
            head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
            self.writer.write(f"{method} {path} HTTP/1.1\r\n{head}\r\n".encode() + data)
            status_line = await self.reader.readline()
            status = int(status_line.split()[1])
            length = 0
            close = False
            while True:
                line = await self.reader.readline()
                if line in (b"\r\n", b""):
                    break
                name, _, value = line.decode("latin-1").partition(":")
                name = name.strip().lower()
                if name == "content-length":
                    length = int(value)
                elif name == "connection" and value.strip().lower() == "close":
                    close = True
            payload = await self.reader.readexactly(length) if length else b""
            if close:
                self.writer.close()
                self.writer = None
            return status, (json.loads(payload) if payload else None)

    def close(self):
        if self.writer is not None:
            self.writer.close()
