"""
The servers under test, started and stopped by the bench itself.

LiveboardStack  daphne (or uvicorn, for the server comparison) processes of
                boardsite.asgi:application on a fresh database: 1 process with
                the in-memory layer and SQLite (embedded), or N processes with
                Redis (pub/sub layer, Redis presence) and a temporary
                PostgreSQL database (scaled; SQLite if PostgreSQL is absent).
SocketIOStack   bench/sio_server.py processes (python-socketio on aiohttp),
                with AsyncRedisManager when there is more than one.
RawStack        bench/raw_server.py: the same wire on plain `websockets`, one
                broadcast() per change (+ Redis PUBLISH): the ceiling.

Each process listens on its own loopback port; the load generator spreads
viewers and publishers over the ports round-robin (what a balancer does),
so both stacks get exactly the same placement.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_listening(port, proc, timeout=30, log=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}: {log and Path(log).read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server on {port} did not start in {timeout}s")


def proc_cpu(pid):
    """utime + stime of a process, in seconds (/proc/<pid>/stat)."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_rss(pid):
    with open(f"/proc/{pid}/statm") as fh:
        return int(fh.read().split()[1]) * PAGE


def redis_cpu(url):
    try:
        import redis

        info = redis.Redis.from_url(url).info("cpu")
        return info["used_cpu_user"] + info["used_cpu_sys"]
    except Exception:  # noqa: BLE001 - Redis CPU is reported when available
        return None


def postgres_available(host="127.0.0.1", port=5432):
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


class Stack:
    kind = None

    def __init__(self, name, processes, redis_url=None):
        self.name = name
        self.processes = processes
        self.redis_url = redis_url if processes > 1 or redis_url else None
        self.procs = []
        self.ports = []
        self.logs = []
        self.tmp = tempfile.mkdtemp(prefix=f"liveboard-bench-{name}-")

    @property
    def pids(self):
        return [p.pid for p in self.procs]

    def cpu(self):
        return sum(proc_cpu(pid) for pid in self.pids)

    def rss(self):
        return sum(proc_rss(pid) for pid in self.pids)

    def redis_cpu(self):
        return redis_cpu(self.redis_url) if self.redis_url else None

    def _spawn(self, command, env, port):
        log = os.path.join(self.tmp, f"server-{len(self.procs)}.log")
        with open(log, "wb") as fh:
            proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        self.ports.append(port)
        self.logs.append(log)
        wait_listening(port, proc, log=log)

    def stop(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        self.procs = []
        self.cleanup()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def cleanup(self):
        pass

    def log_tail(self, n=3000):
        return "\n".join(Path(log).read_text(errors="replace")[-n:] for log in self.logs if os.path.exists(log))


class LiveboardStack(Stack):
    kind = "liveboard"

    def __init__(self, name, processes, redis_url=None, server="daphne", database="auto", env=None, tasks=16):
        super().__init__(name, processes, redis_url)
        self.server = server
        self.database = database
        self.extra_env = env or {}
        self.tasks = tasks
        self.pg_name = None
        self.fixtures = None

    def _database_url(self):
        use_pg = self.database == "postgres" or (
            self.database == "auto" and self.processes > 1 and postgres_available()
        )
        if use_pg:
            import psycopg

            self.pg_name = f"liveboard_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
            with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{self.pg_name}"')
            return f"postgres://postgres@127.0.0.1:5432/{self.pg_name}"
        return f"sqlite:///{os.path.join(self.tmp, 'bench.sqlite3')}"

    def env(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_", "LIVEBOARD_"))}
        env.pop("REDIS_URL", None)
        env.update(
            DJANGO_SETTINGS_MODULE="boardsite.settings",
            DATABASE_URL=self.db_url,
            SECRET_KEY="liveboard-bench-not-secret",
            LIVEBOARD_RATE_LIMIT="100000",
            LIVEBOARD_RATE_BURST="100000",
            LOG_LEVEL="WARNING",
            PYTHONUNBUFFERED="1",
        )
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
            env["LIVEBOARD_REDIS_PREFIX"] = f"lbbench{uuid.uuid4().hex[:8]}"
        env.update({k: str(v) for k, v in self.extra_env.items()})
        return env

    def start(self):
        self.db_url = self._database_url()
        env = self.env()
        out = subprocess.run(
            [sys.executable, str(ROOT / "bench" / "prepare_db.py"), "--tasks", str(self.tasks)],
            cwd=ROOT, env={**env, "REDIS_URL": ""}, capture_output=True, text=True, timeout=180,
        )
        if out.returncode:
            raise RuntimeError(f"prepare_db failed:\n{out.stderr[-3000:]}")
        self.fixtures = json.loads(out.stdout.strip().splitlines()[-1])
        self.env_used = env
        for _ in range(self.processes):
            port = free_port()
            if self.server == "uvicorn":
                command = [str(BIN / "uvicorn"), "boardsite.asgi:application", "--host", "127.0.0.1",
                           "--port", str(port), "--no-access-log", "--lifespan", "off", "--backlog", "4096",
                           "--log-level", "warning", "--ws-max-size", str(4 * 65536)]
                command += os.environ.get("BENCH_UVICORN_ARGS", "--loop asyncio").split()
            else:
                command = [str(BIN / "daphne"), "-e", f"tcp:port={port}:interface=127.0.0.1:backlog=4096",
                           "boardsite.asgi:application"]
            self._spawn(command, env, port)
        return self

    def cleanup(self):
        if self.pg_name:
            import psycopg

            try:
                with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)')
            except Exception:  # noqa: BLE001
                pass
            self.pg_name = None


class SocketIOStack(Stack):
    kind = "socketio"
    script = "sio_server.py"

    def start(self):
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        channel = f"sio-bench-{uuid.uuid4().hex[:8]}"
        for _ in range(self.processes):
            port = free_port()
            command = [sys.executable, str(ROOT / "bench" / self.script), "--port", str(port), "--channel", channel]
            if self.redis_url:
                command += ["--redis", self.redis_url]
            self._spawn(command, env, port)
        self.fixtures = {"tasks": list(range(1, 1000))}
        return self


class RawStack(SocketIOStack):
    """bench/raw_server.py: the same wire on plain `websockets` (the ceiling)."""

    script = "raw_server.py"
