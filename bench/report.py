"""
Markdown tables from a bench result file (what BENCHMARKS.md quotes).

    python bench/report.py [bench/results/latest.json]
"""

import json
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

LABELS = {
    "lb-embedded": "Liveboard, 1 daphne, in-memory layer, SQLite",
    "sio-1": "python-socketio, 1 process",
    "lb-scaled": "Liveboard, 2 daphne + Redis + PostgreSQL",
    "lb-scaled-nopool": "Liveboard, 2 daphne + Redis + PostgreSQL, no connection pool (DATABASE_POOL_SIZE=0)",
    "sio-2": "python-socketio, 2 processes + AsyncRedisManager",
    "raw-1": "plain `websockets` relay (the ceiling), 1 process",
    "raw-2": "plain `websockets` relay (the ceiling), 2 processes + Redis",
}


def f(v, fmt):
    return format(v, fmt) if isinstance(v, (int, float)) else "–"


def main():
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "results" / "latest.json"
    data = json.loads(path.read_text())
    summary, results = data["summary"], data["results"]
    m = data["machine"]
    print(f"machine: {m['nproc']} cores, {m['cpu']}, {m['ram_gib']} GiB, Python {m['python']}, kernel {m['kernel']}")
    print()
    print("| stack | burst deliveries/s (runs) | ratio to peer | server CPU µs/frame | Redis µs/frame | "
          "load-gen µs/frame | 10/s p50 / p95 / p99 ms | lost (burst+rate) | RSS KB/socket |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, s in summary.items():
        ratio = next((v for k, v in s.items() if k.startswith("ratio_vs_")), None)
        runs = ", ".join(f(x, ",.0f") for x in s["deliveries_per_s_all"])
        print(f"| {LABELS.get(name, name)} | **{f(s['deliveries_per_s'], ',.0f')}** ({runs}) | {f(ratio, '.2f')} | "
              f"{f(s['server_us_per_frame'], '.1f')} | {f(s['redis_us_per_frame'], '.1f')} | "
              f"{f(s['loadgen_us_per_frame'], '.1f')} | {f(s['rate_p50_ms'], '.0f')} / {f(s['rate_p95_ms'], '.0f')} / "
              f"{f(s['rate_p99_ms'], '.0f')} | {s['burst_missing'] + s['rate_missing']} | {f(s['rss_per_conn_kb'], '.1f')} |")
    print()
    print("| stack | join: sockets | join s | presence frames | presence drained at s |")
    print("|---|---|---|---|---|")
    for name, runs in results.items():
        j = [r["join"] for r in runs]
        print(f"| {LABELS.get(name, name)} | {j[0]['sockets']} | {f(statistics.median(x['join_s'] for x in j), '.1f')} | "
              f"{f(statistics.median(x['presence_frames'] for x in j), ',.0f')} | "
              f"{f(statistics.median(x['presence_drain_s'] for x in j), '.1f')} |")
    print()
    rates = sorted({s["rate"] for runs in results.values() for r in runs for s in r.get("sweep", [])})
    if rates:
        print("Latency vs offered load (median over runs of p50 / p99 ms; – = not reached: a lower rate already "
              "exceeded the stop threshold)")
        print()
        print("| stack | " + " | ".join(f"{r:g}/s" for r in rates) + " |")
        print("|---|" + "---|" * len(rates))
        for name, runs in results.items():
            cells = []
            for rate in rates:
                pts = [s for r in runs for s in r.get("sweep", []) if s["rate"] == rate and s["p50_ms"] is not None]
                if not pts:
                    cells.append("–")
                    continue
                lost = sum(p["missing"] for p in pts)
                cell = (f"{statistics.median(p['p50_ms'] for p in pts):.0f} / "
                        f"{statistics.median(p['p99_ms'] for p in pts):.0f}")
                if lost:
                    cell += f" ({lost} lost)"
                cells.append(cell)
            print(f"| {LABELS.get(name, name)} | " + " | ".join(cells) + " |")
    loads = [(r.get("loadavg_before") or [None])[0] for runs in results.values() for r in runs]
    loads = [x for x in loads if x is not None]
    if loads:
        print()
        print(f"1-min load average before each stack run: {min(loads):.2f}–{max(loads):.2f}")


if __name__ == "__main__":
    main()
