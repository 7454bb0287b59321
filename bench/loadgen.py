"""
Load-generator worker processes: each holds a share of the viewer sockets.

The orchestrator (bench/run.py) starts `Workers(n)`; each worker is a separate
OS process running an asyncio loop (uvloop when installed) with lean sockets
(bench/leanws.py). Commands go over a pipe:

    connect  open + join this worker's share of viewers (and decoys)
    reset    start a measurement window: forget what was received so far
    progress frames received in the window, last receive time
    collect  per-viewer loss against the expected seqs, latency samples
    close    drop every socket

A viewer records, per event frame, its `seq` and the latency from the publish
timestamp embedded in the task title (`b@<monotonic ns>`; CLOCK_MONOTONIC is
system-wide on Linux, so it compares across processes).
"""

import asyncio
import multiprocessing
import re
import resource
import time
from array import array

from leanws import connect

EVENT = re.compile(rb'"seq":(\d+).*?b@(\d+)', re.S)
PRESENCE = re.compile(rb'"type":"(?:user_joined|user_left|presence)"')

LIVEBOARD = "liveboard"
SOCKETIO = "socketio"


class Stats:
    def __init__(self):
        self.reset()

    def reset(self):
        self.delivered = 0
        self.presence = 0
        self.leaks = 0
        self.first_ns = 0
        self.last_ns = 0
        self.last_presence_ns = 0
        self.latencies = array("q")
        self.latency_seqs = array("q")  # the seq of each latency sample: per-change breakdowns


class Viewer:
    """One viewer socket: joins `board`, records event seqs and latencies."""

    __slots__ = ("kind", "board", "decoy", "stats", "seqs", "ws", "joined", "dups")

    def __init__(self, kind, board, decoy, stats):
        self.kind = kind
        self.board = board
        self.decoy = decoy
        self.stats = stats
        self.seqs = set()
        self.dups = 0
        self.ws = None
        self.joined = asyncio.get_running_loop().create_future()

    def on_text(self, payload, now):
        m = EVENT.search(payload)
        stats = self.stats
        if m is not None:
            if self.decoy:
                stats.leaks += 1
                return
            seq = int(m.group(1))
            if seq in self.seqs:
                self.dups += 1
            self.seqs.add(seq)
            stats.delivered += 1
            stats.latencies.append(now - int(m.group(2)))
            stats.latency_seqs.append(seq)
            if not stats.first_ns:
                stats.first_ns = now
            stats.last_ns = now
            return
        if PRESENCE.search(payload) is not None:
            stats.presence += 1
            stats.last_presence_ns = now
            return
        self.control(payload)

    def control(self, payload):
        if self.kind == LIVEBOARD:
            if payload.startswith(b'{"type":"joined"') and not self.joined.done():
                self.joined.set_result(True)
            elif payload.startswith(b'{"type":"error"') and not self.joined.done():
                self.joined.set_exception(RuntimeError(payload.decode(errors="replace")))
            return
        # socket.io over engine.io v4, websocket transport
        if payload == b"2":
            self.ws.send_text(b"3")
        elif payload.startswith(b"0{"):
            self.ws.send_text(b"40")
        elif payload.startswith(b"40"):
            self.ws.send_text(b'421["join","%s"]' % self.board.encode())
        elif payload.startswith(b"431") and not self.joined.done():
            self.joined.set_result(True)

    def _bind(self, ws):
        self.ws = ws

    async def open(self, host, port, clock):
        path = "/ws/" if self.kind == LIVEBOARD else "/socket.io/?EIO=4&transport=websocket"
        self.ws = await connect(host, port, path, self.on_text, clock, bind=self._bind)
        if self.board is None:  # idle socket: connected, not joined
            return
        if self.kind == LIVEBOARD:
            self.ws.send_text(b'{"type":"join","boardId":"%s"}' % self.board.encode())
        await asyncio.wait_for(self.joined, 60)


async def _worker_main(conn):
    loop = asyncio.get_running_loop()
    stats = Stats()
    viewers = []
    clock = time.monotonic_ns
    # The pipe is used from a helper thread: uvloop's add_reader would make
    # it non-blocking, and large replies would then fail half-written.
    send_lock = __import__("threading").Lock()

    def _send(obj):
        with send_lock:
            conn.send(obj)

    async def reply(obj):
        await loop.run_in_executor(None, _send, obj)

    async def open_all(specs, concurrency):
        sem = asyncio.Semaphore(concurrency)
        errors = []

        async def one(spec):
            host, port, kind, board, decoy = spec
            async with sem:
                v = Viewer(kind, board, decoy, stats)
                for attempt in range(3):
                    try:
                        await v.open(host, port, clock)
                        viewers.append(v)
                        return
                    except Exception as exc:  # noqa: BLE001 - reported to the orchestrator
                        if attempt == 2:
                            errors.append(repr(exc))
                        else:
                            v = Viewer(kind, board, decoy, stats)
                            await asyncio.sleep(0.2)

        await asyncio.gather(*(one(s) for s in specs))
        return errors

    while True:
        cmd, args = await loop.run_in_executor(None, conn.recv)
        if cmd == "connect":
            t0 = time.monotonic()
            errors = await open_all(args["specs"], args.get("concurrency", 64))
            await reply({"opened": len(viewers), "errors": errors[:5], "n_errors": len(errors),
                       "seconds": time.monotonic() - t0})
        elif cmd == "reset":
            stats.reset()
            for v in viewers:
                v.seqs = set()
                v.dups = 0
            await reply(True)
        elif cmd == "progress":
            await reply({"delivered": stats.delivered, "presence": stats.presence, "last_ns": stats.last_ns,
                       "last_presence_ns": stats.last_presence_ns, "open": sum(1 for v in viewers if not v.ws.closed.done())})
        elif cmd == "collect":
            expected = set(args["expected"])
            missing = lossy = dups = extra = 0
            for v in viewers:
                if v.decoy:
                    continue
                gap = len(expected - v.seqs)
                missing += gap
                lossy += gap > 0
                dups += v.dups
                extra += len(v.seqs - expected)
            ru = resource.getrusage(resource.RUSAGE_SELF)
            await reply({
                "delivered": stats.delivered, "missing": missing, "lossy_viewers": lossy, "dups": dups,
                "extra": extra, "leaks": stats.leaks, "presence": stats.presence,
                "first_ns": stats.first_ns, "last_ns": stats.last_ns,
                "latencies": stats.latencies.tobytes(),
                "latency_seqs": stats.latency_seqs.tobytes(),
                "viewers": sum(1 for v in viewers if not v.decoy),
                "closed": sum(1 for v in viewers if v.ws.closed.done()),
                "cpu": ru.ru_utime + ru.ru_stime,
            })
        elif cmd == "close":
            for v in viewers:
                v.ws.close()
            await asyncio.sleep(0.2)
            viewers.clear()
            await reply(True)
        elif cmd == "exit":
            await reply(True)
            return


def _worker(conn):
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(_worker_main(conn))


class Workers:
    """N worker processes; `await call(cmd, [args per worker])`."""

    def __init__(self, n):
        ctx = multiprocessing.get_context("spawn")
        self.conns = []
        self.procs = []
        for _ in range(n):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_worker, args=(child,), daemon=True)
            proc.start()
            self.conns.append(parent)
            self.procs.append(proc)

    @property
    def pids(self):
        return [p.pid for p in self.procs]

    async def call(self, cmd, args=None):
        loop = asyncio.get_running_loop()
        per_worker = args if isinstance(args, list) else [args or {}] * len(self.conns)
        futures = []
        for conn, arg in zip(self.conns, per_worker):
            fut = loop.create_future()

            def ready(conn=conn, fut=fut):
                loop.remove_reader(conn.fileno())
                try:
                    fut.set_result(conn.recv())
                except Exception as exc:  # noqa: BLE001
                    fut.set_exception(exc)

            loop.add_reader(conn.fileno(), ready)
            conn.send((cmd, arg))
            futures.append(fut)
        return await asyncio.gather(*futures)

    async def close(self):
        try:
            await asyncio.wait_for(self.call("exit"), 10)
        except Exception:  # noqa: BLE001
            pass
        for p in self.procs:
            p.join(2)
            if p.is_alive():
                p.kill()
