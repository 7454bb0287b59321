"""
The benchmark's smoke mode (`make bench-smoke`) as a test: real servers, real
sockets, the whole bench path, small N, a few seconds. It asserts only that
the bench runs and that every viewer got every seq — never a timing.

Embedded mode always; the scaled stack (2 daphne + Redis + a temporary
PostgreSQL database) too when the suite runs with REDIS_URL (make
test-services, CI).
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_bench_smoke_runs_and_loses_nothing():
    stacks = "lb-embedded"
    if os.environ.get("REDIS_URL"):
        stacks += ",lb-scaled"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_"))}
    if os.environ.get("REDIS_URL"):
        env["BENCH_REDIS_URL"] = os.environ["REDIS_URL"]
    try:
        out = subprocess.run(
            [sys.executable, str(ROOT / "bench" / "run.py"), "smoke", "--stacks", stacks, "--out", os.devnull],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"bench smoke did not finish: {exc.stdout}\n{exc.stderr}")
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-4000:]
    assert "smoke: ok" in out.stdout
