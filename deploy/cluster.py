#!/usr/bin/env python
"""
Run N daphne processes that share one listening socket (scaled mode).

The parent opens 127.0.0.1:PORT once and hands the descriptor to every
daphne (`--fd`); the kernel spreads new connections over the processes, so
no load balancer is needed on one machine. Rooms, presence and ordering are
shared through Redis (REDIS_URL) and the database (DATABASE_URL).

    REDIS_URL=redis://127.0.0.1:6379/0 python deploy/cluster.py --processes 2 --port 8000
"""

import argparse
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()

    if not os.environ.get("REDIS_URL") and not os.environ.get("REDIS_SENTINELS"):
        sys.exit("REDIS_URL is not set: separate processes could not share rooms or presence.")

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((args.host, args.port))
    listener.listen(1024)
    listener.set_inheritable(True)
    fd = listener.fileno()

    daphne = str(Path(sys.executable).with_name("daphne"))
    workers = [
        subprocess.Popen([daphne, "--fd", str(fd), "boardsite.asgi:application"], cwd=ROOT, pass_fds=(fd,))
        for _ in range(args.processes)
    ]
    print(f"Liveboard: {args.processes} daphne processes on http://{args.host}:{args.port}/ "
          f"(pids {', '.join(str(w.pid) for w in workers)})", flush=True)

    def stop(signum, frame):
        for worker in workers:
            if worker.poll() is None:
                worker.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    codes = [worker.wait() for worker in workers]
    sys.exit(max(codes))


if __name__ == "__main__":
    main()
