#!/usr/bin/env python
"""
Liveboard fan-out benchmark, with python-socketio measured in the same run.

    python bench/run.py                 # `make bench`: all stacks, 1,000 viewers, 3 runs, plot
    python bench/run.py smoke           # `make bench-smoke`: small and quick, exits 1 on any loss
    python bench/run.py idle            # 10,000 idle sockets on one Liveboard process: RSS per socket
    python bench/run.py --help

Per stack and run: fresh servers and database; N viewers (+ decoys on board-2)
connect through the real protocol and join; then

  join     connect + join time, presence frames the storm produced and when they stopped
  burst    publishers (WebSocket + REST, spread over every server process) make
           --burst changes as fast as acks come back: deliveries/s until the last
           frame arrived, server CPU per delivered frame (/proc utime+stime of the
           server processes; Redis separately), loss by seq per viewer
  rate     --rate changes/s for --duration s: change→frame latency p50/p95/p99, loss
  sweep    the same at each --sweep rate (latency vs offered load: bench/latency.png)

Stacks: lb-embedded (1 daphne, in-memory layer, SQLite), lb-scaled (2 daphne +
Redis + PostgreSQL), lb-scaled-nopool (the same without the connection pool), sio-1
(python-socketio, 1 process), sio-2 (2 processes + AsyncRedisManager), raw-1 /
raw-2 (the same wire on plain `websockets`: the ceiling for this machine).
"""

import argparse
import asyncio
import itertools
import json
import os
import platform
import statistics
import sys
import time
from array import array
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from loadgen import LIVEBOARD, SOCKETIO, Workers  # noqa: E402
from publishers import open_publishers  # noqa: E402
from stacks import LiveboardStack, RawStack, SocketIOStack, proc_cpu  # noqa: E402

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")

STACKS = {
    "lb-embedded": lambda a: LiveboardStack("lb-embedded", 1, None, server=a.server, env=a.server_env),
    "lb-scaled": lambda a: LiveboardStack("lb-scaled", a.processes, REDIS_URL, server=a.server, env=a.server_env,
                                          database=a.database),
    # The same without the connection pool: a new PostgreSQL connection per
    # database call, the default before it (README "Database connections").
    "lb-scaled-nopool": lambda a: LiveboardStack("lb-scaled-nopool", a.processes, REDIS_URL, server=a.server,
                                                 env={"DATABASE_POOL_SIZE": "0", **a.server_env}, database=a.database),
    "sio-1": lambda a: SocketIOStack("sio-1", 1, None),
    "sio-2": lambda a: SocketIOStack("sio-2", a.processes, REDIS_URL),
    # The ceiling: the peer's wire on plain `websockets`, nothing else (bench/raw_server.py).
    "raw-1": lambda a: RawStack("raw-1", 1, None),
    "raw-2": lambda a: RawStack("raw-2", a.processes, REDIS_URL),
}
PEERS = {"lb-embedded": "sio-1", "lb-scaled": "sio-2", "lb-scaled-nopool": "sio-2"}


def log(*args):
    print(*args, flush=True)


def pct(values, p):
    if not values:
        return None
    values = sorted(values)
    k = min(len(values) - 1, max(0, int(round(p / 100 * (len(values) - 1)))))
    return values[k]


def per_change(latencies_ms, seqs, origins):
    """Latency split per change: its first frame (the change path: request,
    database, commit, layer) and the spread to its last frame (the fan-out).
    Which split holds a tail says where to look for it."""
    frames = {}
    for seq, ms in zip(seqs, latencies_ms):
        frames.setdefault(seq, []).append(ms)
    first = [min(v) for v in frames.values()]
    spread = [max(v) - min(v) for v in frames.values()]
    slowest = sorted(frames, key=lambda seq: -max(frames[seq]))[:5]
    by_door = {}  # publisher class -> first-frame latencies of its changes
    for seq, v in frames.items():
        by_door.setdefault((origins.get(seq) or "?").split("@")[0], []).append(min(v))
    return {
        "first_by_publisher": {door: {"changes": len(v), "p50_ms": pct(v, 50), "p99_ms": pct(v, 99)}
                               for door, v in sorted(by_door.items())},
        "first_p50_ms": pct(first, 50), "first_p99_ms": pct(first, 99),
        "spread_p50_ms": pct(spread, 50), "spread_p99_ms": pct(spread, 99),
        "slowest": [{"seq": seq, "origin": origins.get(seq), "first_ms": round(min(frames[seq]), 1),
                     "median_ms": round(pct(frames[seq], 50), 1), "last_ms": round(max(frames[seq]), 1)}
                    for seq in slowest],
    }


def machine():
    cpu = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return {"nproc": os.cpu_count(), "cpu": cpu, "ram_gib": round(mem / 2**30, 1),
            "python": platform.python_version(), "kernel": platform.release()}


class Run:
    """One stack, freshly started, with its viewers connected."""

    def __init__(self, stack, workers, args):
        self.stack = stack
        self.workers = workers
        self.args = args
        self.result = {"stack": stack.name, "processes": stack.processes}
        self.origins = {}  # seq -> the publisher that made the change (rate phases)

    async def progress(self):
        rows = await self.workers.call("progress")
        return (sum(r["delivered"] for r in rows), sum(r["presence"] for r in rows),
                max(r["last_ns"] for r in rows), max(r["last_presence_ns"] for r in rows))

    async def wait_delivered(self, target, quiet=5.0, cap=300.0):
        """Until `target` frames arrived, or nothing arrived for `quiet` s."""
        start = time.monotonic()
        last_count, last_change = -1, time.monotonic()
        while True:
            delivered, *_ = await self.progress()
            now = time.monotonic()
            if delivered >= target:
                return delivered, True
            if delivered != last_count:
                last_count, last_change = delivered, now
            elif now - last_change > quiet or now - start > cap:
                return delivered, False
            await asyncio.sleep(0.05)

    async def collect(self, expected):
        rows = await self.workers.call("collect", {"expected": list(expected)})
        lat, lat_seqs = array("q"), array("q")
        for r in rows:
            lat.frombytes(r["latencies"])
            lat_seqs.frombytes(r["latency_seqs"])
        out = {k: sum(r[k] for r in rows) for k in ("delivered", "missing", "lossy_viewers", "dups", "extra",
                                                      "leaks", "viewers", "closed")}
        out["first_ns"] = min((r["first_ns"] for r in rows if r["first_ns"]), default=0)
        out["last_ns"] = max(r["last_ns"] for r in rows)
        out["latencies_ms"] = [x / 1e6 for x in lat]
        out["latency_seqs"] = lat_seqs
        return out

    async def connect(self):
        a, stack = self.args, self.stack
        kind = LIVEBOARD if stack.kind == "liveboard" else SOCKETIO
        ports = stack.ports
        specs = [("127.0.0.1", ports[i % len(ports)], kind, "board-1", False) for i in range(a.viewers)]
        specs += [("127.0.0.1", ports[i % len(ports)], kind, "board-2", True) for i in range(a.decoys)]
        nw = len(self.workers.conns)
        per_worker = [{"specs": specs[i::nw], "concurrency": a.connect_concurrency} for i in range(nw)]
        self.rss0 = stack.rss()
        t0 = time.monotonic_ns()
        rows = await self.workers.call("connect", per_worker)
        joined_s = (time.monotonic_ns() - t0) / 1e9
        opened = sum(r["opened"] for r in rows)
        errors = [e for r in rows for e in r["errors"]]
        if opened < len(specs):
            raise RuntimeError(f"only {opened}/{len(specs)} sockets joined: {errors[:3]}\n{stack.log_tail()}")
        # Join storm: wait until presence frames stop arriving.
        last, since = -1, time.monotonic()
        storm_start = time.monotonic()
        while time.monotonic() - since < a.storm_quiet and time.monotonic() - storm_start < a.storm_cap:
            _, presence, _, last_presence_ns = await self.progress()
            if presence != last:
                last, since = presence, time.monotonic()
            await asyncio.sleep(0.1)
        self.rss1 = stack.rss()
        self.result["join"] = {
            "sockets": len(specs), "join_s": joined_s, "presence_frames": last,
            "presence_drain_s": (last_presence_ns - t0) / 1e9 if last_presence_ns else 0.0,
            "storm_capped": time.monotonic() - storm_start >= a.storm_cap,
        }
        self.result["rss_per_conn_kb"] = (self.rss1 - self.rss0) / len(specs) / 1024
        self.result["rss_mb"] = self.rss1 / 2**20

    async def publish_burst(self, pubs, total):
        seqs = []
        counter = itertools.count()
        errors = []

        async def loop(pub):
            while next(counter) < total:
                try:
                    seqs.append(await pub.change())
                except Exception as exc:  # noqa: BLE001
                    errors.append(repr(exc))

        await asyncio.gather(*(loop(p) for p in pubs for _ in range(self.args.window)))
        return seqs, errors

    async def publish_rate(self, pubs, rate, duration):
        seqs, errors, tasks = [], [], []
        n = max(1, int(rate * duration))
        cycle = itertools.cycle(pubs)
        t0 = time.monotonic()

        async def one(pub):
            try:
                seq = await pub.change()
                seqs.append(seq)
                self.origins[seq] = f"{type(pub).__name__}@{pub.port}"
            except Exception as exc:  # noqa: BLE001
                errors.append(repr(exc))

        for i in range(n):
            delay = t0 + i / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.ensure_future(one(next(cycle))))
        await asyncio.gather(*tasks)
        return seqs, errors

    def cpu(self):
        loadgen = sum(proc_cpu(pid) for pid in self.workers.pids)
        return self.stack.cpu(), self.stack.redis_cpu(), loadgen

    def start_profile(self, phase):
        """py-spy on every server process (--profile DIR): collapsed stacks per process."""
        import shutil
        import subprocess

        spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        Path(self.args.profile).mkdir(parents=True, exist_ok=True)
        procs = []
        for i, pid in enumerate(self.stack.pids):
            out = Path(self.args.profile) / f"{self.stack.name}-{phase}-{i}.txt"
            procs.append(subprocess.Popen([spy, "record", "-p", str(pid), "-o", str(out), "-f", "raw", "-r", "200",
                                           "--nonblocking"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(1.0)
        return procs

    @staticmethod
    def stop_profile(procs):
        import signal as _signal

        for p in procs:
            p.send_signal(_signal.SIGINT)
        for p in procs:
            p.wait(30)

    async def burst(self, pubs, total):
        await self.workers.call("reset")
        spies = self.start_profile("burst") if self.args.profile else None
        cpu0 = self.cpu()
        t0 = time.monotonic_ns()
        seqs, errors = await self.publish_burst(pubs, total)
        publish_s = (time.monotonic_ns() - t0) / 1e9
        delivered, complete = await self.wait_delivered(len(seqs) * self.args.viewers)
        cpu1 = self.cpu()
        if spies:
            self.stop_profile(spies)
        c = await self.collect(seqs)
        elapsed = (c["last_ns"] - t0) / 1e9 if c["last_ns"] else float("nan")
        server_cpu = cpu1[0] - cpu0[0]
        res = {
            "changes": len(seqs), "errors": len(errors), "error_sample": errors[:2], "publish_s": publish_s,
            "elapsed_s": elapsed, "delivered": c["delivered"], "deliveries_per_s": c["delivered"] / elapsed,
            "server_cpu_s": server_cpu, "server_us_per_frame": server_cpu / max(1, c["delivered"]) * 1e6,
            "redis_us_per_frame": ((cpu1[1] - cpu0[1]) / max(1, c["delivered"]) * 1e6) if cpu0[1] is not None else None,
            "loadgen_us_per_frame": (cpu1[2] - cpu0[2]) / max(1, c["delivered"]) * 1e6,
            "server_cores_busy": server_cpu / elapsed,
            "missing": c["missing"], "lossy_viewers": c["lossy_viewers"], "dups": c["dups"], "leaks": c["leaks"],
            "closed": c["closed"], "complete": complete,
            "p50_ms": pct(c["latencies_ms"], 50), "p99_ms": pct(c["latencies_ms"], 99),
        }
        return res

    async def rate(self, pubs, rate, duration):
        await self.workers.call("reset")
        self.origins = {}
        cpu0 = self.cpu()
        t0 = time.monotonic_ns()
        seqs, errors = await self.publish_rate(pubs, rate, duration)
        delivered, complete = await self.wait_delivered(len(seqs) * self.args.viewers)
        cpu1 = self.cpu()
        c = await self.collect(seqs)
        lat = c["latencies_ms"]
        window = (c["last_ns"] - t0) / 1e9 if c["last_ns"] else float("nan")
        return {
            "rate": rate, "changes": len(seqs), "errors": len(errors), "error_sample": errors[:2],
            "delivered": c["delivered"], "missing": c["missing"], "lossy_viewers": c["lossy_viewers"],
            "dups": c["dups"], "leaks": c["leaks"], "complete": complete,
            "p50_ms": pct(lat, 50), "p95_ms": pct(lat, 95), "p99_ms": pct(lat, 99), "max_ms": max(lat, default=None),
            "server_us_per_frame": (cpu1[0] - cpu0[0]) / max(1, c["delivered"]) * 1e6,
            "server_cores_busy": (cpu1[0] - cpu0[0]) / window if window == window else None,
            **per_change(c["latencies_ms"], c["latency_seqs"], self.origins),
        }

    async def execute(self):
        a = self.args
        pubs = await open_publishers(self.stack, a.ws_publishers, a.rest_publishers)
        try:
            await self.connect()
            j = self.result["join"]
            log(f"  [{self.stack.name}] {j['sockets']} sockets joined in {j['join_s']:.1f}s; "
                f"{j['presence_frames']:,} presence frames until {j['presence_drain_s']:.1f}s; "
                f"RSS {self.result['rss_mb']:.0f} MB, {self.result['rss_per_conn_kb']:.1f} KB/socket")
            # warm-up (imports, DB connections, caches)
            await self.rate(pubs, 20, min(1.0, a.duration))
            if a.burst:
                b = self.result["burst"] = await self.burst(pubs, a.burst)
                log(f"  [{self.stack.name}] burst {b['changes']} changes: {b['deliveries_per_s']:,.0f} deliveries/s, "
                    f"server {b['server_us_per_frame']:.1f} µs/frame ({b['server_cores_busy']:.2f} cores)"
                    + (f", redis {b['redis_us_per_frame']:.1f} µs/frame" if b["redis_us_per_frame"] is not None else "")
                    + f", loadgen {b['loadgen_us_per_frame']:.1f} µs/frame; missing {b['missing']}, "
                    f"errors {b['errors']} {b['error_sample']}")
            if a.rate:
                r = self.result["rate"] = await self.rate(pubs, a.rate, a.duration)
                log(f"  [{self.stack.name}] {a.rate}/s for {a.duration}s: p50 {r['p50_ms']:.1f} / p95 {r['p95_ms']:.1f} / "
                    f"p99 {r['p99_ms']:.1f} ms (per change p99: first frame {r['first_p99_ms']:.1f}, "
                    f"first→last {r['spread_p99_ms']:.1f}); server {r['server_us_per_frame']:.1f} µs/frame; "
                    f"missing {r['missing']}, errors {r['errors']} {r['error_sample']}")
            sweep = self.result["sweep"] = []
            for rate in a.sweep:
                s = await self.rate(pubs, rate, a.sweep_duration)
                sweep.append(s)
                log(f"  [{self.stack.name}] sweep {rate}/s: p50 {s['p50_ms']:.1f} p99 {s['p99_ms']:.1f} ms, "
                    f"missing {s['missing']}, {s['server_cores_busy'] or 0:.2f} cores")
                if s["p99_ms"] is None or s["p99_ms"] > a.sweep_stop_ms or not s["complete"]:
                    break
        finally:
            for p in pubs:
                p.close()
            await self.workers.call("close")
        return self.result


def median_of(runs, *path):
    vals = []
    for r in runs:
        v = r
        for key in path:
            v = v.get(key) if isinstance(v, dict) else None
            if v is None:
                break
        if isinstance(v, (int, float)):
            vals.append(v)
    return statistics.median(vals) if vals else None


def summarize(results, runs_per_stack):
    """Medians per stack, and Liveboard / python-socketio ratios."""
    summary = {}
    for name, runs in results.items():
        summary[name] = {
            "runs": len(runs),
            "deliveries_per_s": median_of(runs, "burst", "deliveries_per_s"),
            "deliveries_per_s_all": [r.get("burst", {}).get("deliveries_per_s") for r in runs],
            "server_us_per_frame": median_of(runs, "burst", "server_us_per_frame"),
            "redis_us_per_frame": median_of(runs, "burst", "redis_us_per_frame"),
            "loadgen_us_per_frame": median_of(runs, "burst", "loadgen_us_per_frame"),
            "burst_missing": sum(r.get("burst", {}).get("missing", 0) for r in runs),
            "rate_p50_ms": median_of(runs, "rate", "p50_ms"),
            "rate_p95_ms": median_of(runs, "rate", "p95_ms"),
            "rate_p99_ms": median_of(runs, "rate", "p99_ms"),
            "rate_missing": sum(r.get("rate", {}).get("missing", 0) for r in runs),
            "rss_per_conn_kb": median_of(runs, "rss_per_conn_kb"),
            "join_s": median_of(runs, "join", "join_s"),
            "presence_frames": median_of(runs, "join", "presence_frames"),
            "presence_drain_s": median_of(runs, "join", "presence_drain_s"),
        }
    for lb, sio in PEERS.items():
        if lb in summary and sio in summary and summary[sio]["deliveries_per_s"]:
            summary[lb]["ratio_vs_" + sio] = summary[lb]["deliveries_per_s"] / summary[sio]["deliveries_per_s"]
    return summary


def print_summary(summary, args):
    log("")
    log(f"== medians ({args.viewers} viewers + {args.decoys} decoys; burst {args.burst} changes; "
        f"rate {args.rate}/s for {args.duration}s)")
    head = (f"{'stack':12} {'deliv/s':>9} {'ratio':>6} {'srv µs/fr':>9} {'redis µs':>8} {'lg µs':>6} "
            f"{'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'lost':>5} {'KB/sock':>7} {'join s':>6} {'presence':>9}")
    log(head)

    def f(v, fmt):
        return format(v, fmt) if isinstance(v, (int, float)) else "-"

    for name, s in summary.items():
        ratio = next((v for k, v in s.items() if k.startswith("ratio_vs_")), None)
        log(f"{name:12} {f(s['deliveries_per_s'], '9,.0f')} {f(ratio, '6.2f')} {f(s['server_us_per_frame'], '9.1f')} "
            f"{f(s['redis_us_per_frame'], '8.1f')} {f(s['loadgen_us_per_frame'], '6.1f')} {f(s['rate_p50_ms'], '7.1f')} "
            f"{f(s['rate_p95_ms'], '7.1f')} {f(s['rate_p99_ms'], '7.1f')} "
            f"{s['burst_missing'] + s['rate_missing']:5d} {f(s['rss_per_conn_kb'], '7.1f')} {f(s['join_s'], '6.1f')} "
            f"{f(s['presence_frames'], '9,.0f')}")


def plot(results, path):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("(matplotlib not installed: no plot)")
        return
    fig, ax = plt.subplots(figsize=(8, 5))
    styles = {"lb-embedded": ("tab:purple", "--"), "lb-scaled": ("tab:blue", "-"), "lb-scaled-nopool": ("tab:green", "-"),
              "sio-1": ("tab:red", "--"), "sio-2": ("tab:orange", "-"),
              "raw-1": ("tab:gray", "--"), "raw-2": ("tab:gray", "-")}
    labels = {"lb-embedded": "Liveboard, 1 daphne (in-memory layer)",
              "lb-scaled": "Liveboard, 2 daphne + Redis",
              "lb-scaled-nopool": "Liveboard, 2 daphne + Redis, no connection pool",
              "sio-1": "python-socketio, 1 process", "sio-2": "python-socketio, 2 processes + Redis",
              "raw-1": "plain websockets (ceiling), 1 process", "raw-2": "plain websockets (ceiling), 2 processes + Redis"}
    for name, runs in results.items():
        points = {}
        for r in runs:
            for s in r.get("sweep", []):
                points.setdefault(s["rate"], {"p50": [], "p99": []})
                if s["p50_ms"] is not None:
                    points[s["rate"]]["p50"].append(s["p50_ms"])
                    points[s["rate"]]["p99"].append(s["p99_ms"])
        rates = sorted(r for r in points if points[r]["p99"])
        if not rates:
            continue
        color, ls = styles.get(name, ("gray", "-"))
        offered = [r * results[name][0].get("viewers", 1) for r in rates]
        ax.plot(offered, [statistics.median(points[r]["p99"]) for r in rates], color=color, ls=ls, marker="o",
                label=f"{labels.get(name, name)} p99")
        ax.plot(offered, [statistics.median(points[r]["p50"]) for r in rates], color=color, ls=ls, marker=".",
                alpha=0.5, label=f"{labels.get(name, name)} p50")
    ax.set_xlabel("offered load (deliveries/s = changes/s × viewers)")
    ax.set_ylabel("change → frame latency (ms)")
    ax.set_yscale("log")
    ax.axhline(50, color="gray", lw=0.8, ls=":")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    ax.set_title("Latency vs offered load (1,000 viewers of one board)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    log(f"plot: {path}")


async def bench(args):
    workers = Workers(args.workers)
    results = {}
    try:
        for run_no in range(args.runs):
            for name in args.stacks:
                stack = STACKS[name](args)
                log(f"run {run_no + 1}/{args.runs}: {name} ({stack.processes} process(es))")
                load_before = os.getloadavg()
                stack.start()
                try:
                    res = await Run(stack, workers, args).execute()
                    res["loadavg_before"] = load_before
                    res["loadavg_after"] = os.getloadavg()
                    res["viewers"] = args.viewers
                    results.setdefault(name, []).append(res)
                finally:
                    stack.stop()
    finally:
        await workers.close()
    return results


def check_smoke(results):
    """Smoke mode: it ran, every viewer got every seq, nothing leaked."""
    problems = []
    for name, runs in results.items():
        for r in runs:
            for phase in ("burst", "rate"):
                p = r.get(phase)
                if not p:
                    problems.append(f"{name}: no {phase} result")
                    continue
                if p["missing"] or p["errors"] or p["leaks"] or not p["complete"] or not p["changes"]:
                    problems.append(f"{name} {phase}: missing={p['missing']} errors={p['errors']} {p['error_sample']} "
                                    f"leaks={p['leaks']} complete={p['complete']} changes={p['changes']}")
    return problems


async def idle(args):
    """N idle sockets on one Liveboard process: RSS growth per socket."""
    stack = LiveboardStack("lb-idle", 1, None, server=args.server, env=args.server_env).start()
    nw = args.workers
    workers = Workers(nw)
    out = {}
    try:
        base = stack.rss()
        steps = sorted({min(args.sockets, s) for s in (1000, args.sockets // 2, args.sockets)})
        done = 0
        kind = LIVEBOARD
        for target in steps:
            board = "board-1" if args.idle_join else None
            specs = [("127.0.0.1", stack.ports[0], kind, board, False) for _ in range(target - done)]
            rows = await workers.call("connect", [{"specs": specs[i::nw], "concurrency": 200, "join": bool(board)}
                                                  for i in range(nw)])
            done = target
            opened = sum(r["opened"] for r in rows)
            await asyncio.sleep(args.settle)
            rss = stack.rss()
            out[target] = {"opened": opened, "rss_mb": rss / 2**20, "kb_per_socket": (rss - base) / target / 1024}
            log(f"  {target:,} idle sockets (opened {opened:,}): server RSS {rss / 2**20:.0f} MB "
                f"(+{(rss - base) / 2**20:.0f} MB), {(rss - base) / target / 1024:.1f} KB/socket")
        # still alive and serving?
        rows = await workers.call("progress")
        out["open_at_end"] = sum(r["open"] for r in rows)
        log(f"  open at the end: {out['open_at_end']:,}; server alive: {stack.procs[0].poll() is None}")
        out["base_rss_mb"] = base / 2**20
    finally:
        try:
            await workers.call("close")
        finally:
            await workers.close()
            stack.stop()
    return out


def parse_env(items):
    env = {}
    for item in items or []:
        k, _, v = item.partition("=")
        env[k] = v
    return env


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", nargs="?", default="all", choices=["all", "smoke", "idle"])
    parser.add_argument("--stacks", default="lb-embedded,sio-1,raw-1,lb-scaled,sio-2,raw-2,lb-scaled-nopool")
    parser.add_argument("--viewers", type=int, default=1000)
    parser.add_argument("--decoys", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--burst", type=int, default=300, help="changes in the burst")
    parser.add_argument("--rate", type=float, default=10, help="changes/s for the latency measurement")
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--sweep", default="5,10,20,30,40,60", help="changes/s for the latency-vs-load plot ('' = none)")
    parser.add_argument("--sweep-duration", type=float, default=5)
    parser.add_argument("--sweep-stop-ms", type=float, default=3000)
    parser.add_argument("--processes", type=int, default=2, help="server processes in the scaled stacks")
    parser.add_argument("--workers", type=int, default=2, help="load-generator processes")
    parser.add_argument("--window", type=int, default=4, help="burst: changes in flight per publisher")
    parser.add_argument("--ws-publishers", type=int, default=4, help="WebSocket publishers per server process")
    parser.add_argument("--rest-publishers", type=int, default=1, help="REST publishers per server process")
    parser.add_argument("--connect-concurrency", type=int, default=64)
    parser.add_argument("--storm-quiet", type=float, default=1.5)
    parser.add_argument("--storm-cap", type=float, default=120)
    parser.add_argument("--server", default="daphne", choices=["daphne", "uvicorn"])
    parser.add_argument("--server-env", action="append", metavar="K=V", help="extra env for Liveboard servers")
    parser.add_argument("--database", default="auto", choices=["auto", "sqlite", "postgres"])
    parser.add_argument("--sockets", type=int, default=10_000, help="idle: sockets to open")
    parser.add_argument("--idle-join", action="store_true", help="idle: also join board-1")
    parser.add_argument("--settle", type=float, default=3.0)
    parser.add_argument("--profile", metavar="DIR", help="py-spy the server processes during the burst")
    parser.add_argument("--out", default=str(HERE / "results" / "latest.json"))
    parser.add_argument("--plot", default=str(HERE / "latency.png"))
    args = parser.parse_args()
    args.server_env = parse_env(args.server_env)

    if args.mode == "smoke":
        # Small and quick: no timing is asserted, only that it runs and loses nothing.
        args.viewers, args.decoys, args.runs, args.burst = min(args.viewers, 40), min(args.decoys, 5), 1, 20
        args.rate, args.duration, args.sweep = 20, 1.0, ""
        if args.stacks == parser.get_default("stacks"):
            args.stacks = "lb-embedded"
        args.workers = 1
        args.storm_quiet = 0.5
        args.plot = None
    args.stacks = [s for s in args.stacks.split(",") if s]
    args.sweep = [float(x) for x in str(args.sweep).split(",") if x]
    os.environ.setdefault("PYTHONHASHSEED", "0")

    if args.mode == "idle":
        try:
            import resource

            soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, args.sockets * 2 + 1000)), hard))
        except (ValueError, OSError):
            pass
        log(f"idle: {args.sockets:,} sockets on one Liveboard process ({args.server})")
        out = asyncio.run(idle(args))
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).with_name("idle.json").write_text(json.dumps({"machine": machine(), "idle": out}, indent=1))
        return 0

    log(f"machine: {machine()}")
    results = asyncio.run(bench(args))
    summary = summarize(results, args.runs)
    print_summary(summary, args)
    if args.mode == "smoke":
        problems = check_smoke(results)
        for p in problems:
            log("SMOKE FAIL: " + p)
        log("smoke: ok" if not problems else "smoke: FAILED")
        return 1 if problems else 0
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"machine": machine(), "args": {k: v for k, v in vars(args).items()},
                                          "summary": summary, "results": results}, indent=1, default=str))
    log(f"results: {args.out}")
    if args.plot and any(r.get("sweep") for runs in results.values() for r in runs):
        plot(results, args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
