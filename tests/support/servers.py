"""
Real server processes for tests that must see what a real client sees:
daphne (or `manage.py runserver`) on a free loopback port, and `manage.py`
commands, all pointed at the test database and this run's Redis prefix.
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

BASE_DIR = Path(__file__).resolve().parents[2]
SUBPROCESS_APP_NAME = "liveboard-test-subprocess"


def database_url():
    """A DATABASE_URL for the database this test run is using (the test DB)."""
    from django.db import connection

    s = connection.settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{s['NAME']}"
    user = quote(s.get("USER") or "")
    password = quote(s.get("PASSWORD") or "")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    return f"postgres://{auth}{s.get('HOST') or 'localhost'}:{s.get('PORT') or 5432}/{s['NAME']}"


def subprocess_env(**extra):
    """This run's environment, pointed at the test database, the same Redis
    key prefix (conftest isolates it per test run) and the same SECRET_KEY
    (so sessions made by the test are valid there)."""
    from django.conf import settings

    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env["DATABASE_URL"] = database_url()
    env["DJANGO_SETTINGS_MODULE"] = "boardsite.settings"
    env["SECRET_KEY"] = settings.SECRET_KEY
    env["LIVEBOARD_REDIS_PREFIX"] = settings.LIVEBOARD_REDIS_PREFIX
    if settings.REDIS_URL:  # this test runs in scaled mode: so do its servers
        env["REDIS_URL"] = settings.REDIS_URL
    env["PGAPPNAME"] = SUBPROCESS_APP_NAME
    env["PYTHONUNBUFFERED"] = "1"
    env.pop("SQLITE_TEST_NAME", None)
    env.update({k: str(v) for k, v in extra.items()})
    return env


def wait_for_other_sessions_to_end(timeout=5):
    """PostgreSQL notices a finished subprocess's session a moment after the
    process exits, and the test database cannot be flushed or dropped while
    it lingers. Subprocesses connect as PGAPPNAME=SUBPROCESS_APP_NAME; watch
    for them from the maintenance database (plain psycopg: safe from async
    tests, and no session of our own on the test database)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    import psycopg

    s = connection.settings_dict
    params = {
        "host": s.get("HOST") or "localhost",
        "port": s.get("PORT") or 5432,
        "user": s.get("USER") or None,
        "password": s.get("PASSWORD") or None,
        "dbname": "postgres",
        "autocommit": True,
    }
    query = "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND application_name = %s"
    with psycopg.connect(**{k: v for k, v in params.items() if v is not None}) as conn:
        deadline = time.monotonic() + timeout
        while conn.execute(query, (s["NAME"], SUBPROCESS_APP_NAME)).fetchone()[0] and time.monotonic() < deadline:
            time.sleep(0.05)


def manage(*args, env=None, timeout=60, check=False, **extra_env):
    """Run `manage.py ARGS` in a separate OS process; returns CompletedProcess."""
    try:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=BASE_DIR,
            env=env or subprocess_env(**extra_env),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=check,
        )
    finally:
        wait_for_other_sessions_to_end()


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Daphne:
    """`daphne boardsite.asgi:application` (or `manage.py runserver`) on 127.0.0.1.

        with Daphne(LIVEBOARD_RATE_STRIKES=5) as server:
            server.ws_url, server.http_url, server.output(), server.kill()

    Extra daphne flags go in `args`; keyword arguments become environment
    variables of the server (on top of subprocess_env()).
    """

    def __init__(self, *args, port=None, runserver=False, **env):
        self.args = args
        self.port = port or free_port()
        self.runserver = runserver
        self.env = subprocess_env(**env)
        self.proc = None
        self.log_path = None

    @property
    def http_url(self):
        return f"http://127.0.0.1:{self.port}"

    url = http_url

    @property
    def ws_url(self):
        return f"ws://127.0.0.1:{self.port}/ws/"

    def output(self):
        return Path(self.log_path).read_text(errors="replace") if self.log_path else ""

    def start(self, timeout=20):
        if self.runserver:
            command = [sys.executable, "manage.py", "runserver", "--noreload", *self.args, f"127.0.0.1:{self.port}"]
        else:
            daphne = Path(sys.executable).with_name("daphne")
            command = [str(daphne) if daphne.exists() else "daphne", "-b", "127.0.0.1", "-p", str(self.port),
                       "-v1", *self.args, "boardsite.asgi:application"]
        fd, self.log_path = tempfile.mkstemp(prefix="liveboard-daphne-", suffix=".log")
        with os.fdopen(fd, "w") as log:
            self.proc = subprocess.Popen(command, cwd=BASE_DIR, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.output()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"server did not listen on {self.port}:\n{self.output()}")
                time.sleep(0.05)

    def kill(self):
        """SIGKILL: no cleanup at all, like a crash or a power cut."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(5)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        wait_for_other_sessions_to_end()

    def close(self):
        self.stop()
        if self.log_path:
            with contextlib.suppress(OSError):
                os.unlink(self.log_path)
            self.log_path = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()


@contextlib.contextmanager
def run_daphne(*daphne_args, startup_timeout=20, runserver=False, **env):
    """A started server for the length of the block (see Daphne)."""
    server = Daphne(*daphne_args, runserver=runserver, **env)
    server.start(timeout=startup_timeout)
    try:
        yield server
    finally:
        server.close()
