"""
Write-through for Twisted TCP transports under daphne (applied from
BoardsConfig.ready(), like boards.tuning.daphne_compat).

Twisted's `FileDescriptor.write()` never writes: it appends to a buffer and
registers the socket for writability (`addWriter` → on the asyncio reactor
an `epoll_ctl` and a selector-key rebuild), and the reactor's next turn calls
`doWrite()`, sends, and unregisters it again (`removeWriter`, another
`epoll_ctl`). For one WebSocket frame per viewer per event that bookkeeping
was about a third of daphne's CPU per delivered frame (py-spy, BENCHMARKS.md).

When nothing is waiting in the transport's buffer, this `write()` sends
without the reactor and only buffers what the kernel did not take (the usual
path then takes over: writability, producers, back-pressure). Byte order is
unchanged — data goes out directly only when no earlier byte is still queued
— and so is everything else Twisted does with a write.

It sends at the end of the event loop's current turn rather than at once
(LIVEBOARD_WRITE_BATCH, on by default): the data waits in Twisted's own
buffer, so a close or a writeSequence in between still flushes it first, and
every frame a socket got during the turn goes out in one `send()`. Under load
a turn carries several board events, and the `send()` system call — on
loopback it also runs the receiver's side of TCP — was the largest single
cost per frame left (py-spy, BENCHMARKS.md). A quiet board pays nothing
extra but the rest of the turn (the other viewers' handlers, no syscalls).

It also drops autobahn's per-frame debug-log formatting (`_lean_send_data`)
and builds a broadcast's frame bytes once for all viewers (`_frame_once`).

LIVEBOARD_TWISTED_WRITE_THROUGH=0 turns all of this off.
"""

import asyncio
import errno

_applied = False


def apply():
    global _applied
    from django.conf import settings

    if _applied or not settings.LIVEBOARD_TWISTED_WRITE_THROUGH:
        return
    try:
        from twisted.internet import tcp
    except ImportError:  # pragma: no cover - daphne depends on Twisted
        return
    _applied = True
    connection = tcp.Connection
    buffered_write = connection.write

    def send_now(self, data):
        try:
            sent = self.socket.send(data)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EWOULDBLOCK, errno.ENOBUFS, errno.EINTR):
                return buffered_write(self, data)  # the reactor reports the error as usual
            sent = 0
        if sent == len(data):
            return None
        return buffered_write(self, data[sent:])

    batching = settings.LIVEBOARD_WRITE_BATCH
    corked = []  # connections whose writes wait for the end of this loop turn
    scheduled = False

    def flush_corked():
        nonlocal scheduled
        scheduled = False
        batch = corked[:]
        corked.clear()
        for conn in batch:
            conn.liveboard_corked = False
            pending = conn._tempDataBuffer
            if not pending:
                continue  # Twisted wrote it meanwhile
            if not conn.connected or conn._writeDisconnected:
                pending.clear()  # as Twisted's write() drops data for a closed socket
                conn._tempDataLen = 0
                continue
            if conn.disconnecting or conn.offset != len(conn.dataBuffer):
                conn.startWriting()  # Twisted's own path: flush what is queued, then close if asked
                continue
            data = pending[0] if len(pending) == 1 else b"".join(pending)
            pending.clear()
            conn._tempDataLen = 0
            send_now(conn, data)

    def write(self, data):
        nonlocal scheduled
        if self.liveboard_corked and type(data) is bytes and self.connected and not self._writeDisconnected:
            self._tempDataBuffer.append(data)
            self._tempDataLen += len(data)
            return None
        if (
            data
            and type(data) is bytes
            and self.connected
            and not self._writeDisconnected
            and not self._tempDataBuffer
            and self.offset == len(self.dataBuffer)
        ):
            try:
                loop = asyncio.get_running_loop() if batching else None
            except RuntimeError:
                loop = None
            if loop is None:
                return send_now(self, data)
            self._tempDataBuffer.append(data)
            self._tempDataLen += len(data)
            self.liveboard_corked = True
            corked.append(self)
            if not scheduled:
                scheduled = True
                loop.call_soon(flush_corked)
            return None
        return buffered_write(self, data)

    connection.liveboard_corked = False  # set on a connection while its writes wait for flush_corked()
    write.liveboard_patched = True
    write.__doc__ = buffered_write.__doc__
    connection.write = write

    _lean_send_data()
    _frame_once()


def _lean_send_data():
    """autobahn's sendData() without its eager debug-log arguments.

    `sendData` formats `hltype(...)`/`hlval(...)` for a debug line on every
    frame, even with debug logging off (~6 % of the CPU per broadcast frame).
    The plain case — no chopping, no sync, nothing queued, no octet logging —
    writes and counts exactly as autobahn does, minus the log line; every
    other case goes to autobahn's own method.
    """
    try:
        from daphne.ws_protocol import WebSocketProtocol
    except ImportError:  # pragma: no cover
        return
    original = WebSocketProtocol.sendData
    STATE_OPEN = WebSocketProtocol.STATE_OPEN

    def sendData(self, data, sync=False, chopsize=None):
        if sync or chopsize or self.send_queue or self.logOctets or self.state != STATE_OPEN:
            return original(self, data, sync, chopsize)
        self.transport.write(data)
        self.trafficStats.outgoingOctetsWireLevel += len(data)
        return None

    sendData.liveboard_patched = True
    sendData.__doc__ = original.__doc__
    WebSocketProtocol.sendData = sendData


def _frame_once():
    """Encode a broadcast's WebSocket frame once, not once per viewer.

    A board event reaches every consumer as the *same* `str` object (the
    layers hand each member a shallow copy of one message, boards/tuning/layers.py),
    and each consumer sends it as a text frame. autobahn UTF-8-encodes the
    text and builds the frame header for every socket. With no compression
    and no fragmentation negotiated (daphne's defaults), a server text frame
    is the same bytes for every socket, so the last one built is reused when
    the next send carries the identical object. Traffic counters, size limit
    and state checks stay as autobahn keeps them; any other case (binary,
    compression, fragmentation, timings, frame logging, queued data) goes to
    daphne's own `serverSend`.
    """
    try:
        from daphne.ws_protocol import WebSocketProtocol
    except ImportError:  # pragma: no cover
        return
    import struct

    original = WebSocketProtocol.serverSend
    STATE_OPEN = WebSocketProtocol.STATE_OPEN
    last = [None, b"", 0]  # the str, its frame, its payload length (one event loop: no locking)

    def serverSend(self, content, binary=False):
        if (
            binary
            or self.state != STATE_OPEN
            or self._perMessageCompress is not None
            or self.autoFragmentSize
            or self.trackedTimings
            or self.send_queue
            or self.logOctets
            or self.logFrames
            or self.factory.maskServerFrames
        ):
            return original(self, content, binary)
        if last[0] is content:
            frame, length = last[1], last[2]
        else:
            payload = content.encode("utf8")
            length = len(payload)
            if length <= 125:
                header = struct.pack("!BB", 0x81, length)
            elif length <= 0xFFFF:
                header = struct.pack("!BBH", 0x81, 126, length)
            else:
                header = struct.pack("!BBQ", 0x81, 127, length)
            frame = header + payload
            last[0], last[1], last[2] = content, frame, length
        if 0 < self.maxMessagePayloadSize < length:
            return original(self, content, binary)  # autobahn raises its PayloadExceededError
        stats = self.trafficStats
        stats.outgoingWebSocketMessages += 1
        stats.outgoingOctetsAppLevel += length
        stats.outgoingOctetsWebSocketLevel += length
        stats.outgoingWebSocketFrames += 1
        stats.outgoingOctetsWireLevel += len(frame)
        self.transport.write(frame)
        return None

    serverSend.liveboard_patched = True
    serverSend.__doc__ = original.__doc__
    WebSocketProtocol.serverSend = serverSend
