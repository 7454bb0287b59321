"""
Write-through for Twisted TCP transports under daphne (applied from
BoardsConfig.ready(), like boards.daphne_compat).

Twisted's `FileDescriptor.write()` never writes: it appends to a buffer and
registers the socket for writability (`addWriter` → on the asyncio reactor
an `epoll_ctl` and a selector-key rebuild), and the reactor's next turn calls
`doWrite()`, sends, and unregisters it again (`removeWriter`, another
`epoll_ctl`). For one WebSocket frame per viewer per event that bookkeeping
was about a third of daphne's CPU per delivered frame (py-spy, BENCHMARKS.md).

When nothing is waiting in the transport's buffer, this `write()` sends right
away and only buffers what the kernel did not take (the usual path then takes
over: writability, producers, back-pressure). Byte order is unchanged — data
goes out directly only when no earlier byte is still queued — and so is
everything else Twisted does with a write.

It also drops autobahn's per-frame debug-log formatting (`_lean_send_data`)
and builds a broadcast's frame bytes once for all viewers (`_frame_once`).

LIVEBOARD_TWISTED_WRITE_THROUGH=0 turns both off.
"""

import errno
import os

_applied = False


def apply():
    global _applied
    if _applied or os.environ.get("LIVEBOARD_TWISTED_WRITE_THROUGH", "1").lower() in {"0", "false", "no", "off"}:
        return
    try:
        from twisted.internet import tcp
    except ImportError:  # pragma: no cover - daphne depends on Twisted
        return
    _applied = True
    connection = tcp.Connection
    buffered_write = connection.write

    def write(self, data):
        if (
            data
            and type(data) is bytes
            and self.connected
            and not self._writeDisconnected
            and not self._tempDataBuffer
            and self.offset == len(self.dataBuffer)
        ):
            try:
                sent = self.socket.send(data)
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EWOULDBLOCK, errno.ENOBUFS, errno.EINTR):
                    return buffered_write(self, data)  # the reactor reports the error as usual
                sent = 0
            if sent == len(data):
                return None
            data = data[sent:]
        return buffered_write(self, data)

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
    layers hand each member a shallow copy of one message, boards/layers.py),
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
