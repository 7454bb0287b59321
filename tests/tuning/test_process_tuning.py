"""
The interpreter settings a Liveboard process applies at start-up
(boards.tuning.gctune, boards.tuning.switchinterval), read from a fresh process.
"""

import json
import subprocess
import sys

import pytest

from tests.support.servers import BASE_DIR

CPYTHON_SWITCH_INTERVAL = 0.005


def tuning(**env):
    """(switch interval, third GC threshold, objects frozen) after django.setup() with `env`."""
    code = (
        "import gc, json, sys, django; django.setup(); "
        "print(json.dumps([sys.getswitchinterval(), gc.get_threshold()[2], gc.get_freeze_count() > 0]))"
    )
    base = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "boardsite.settings"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=BASE_DIR, env={**base, **env}, capture_output=True, text=True
    )
    if done.returncode:
        return done.stderr
    return json.loads(done.stdout)


POSTGRES = {"DATABASE_URL": "postgres://app@db.invalid:5432/liveboard"}  # not connected to


def test_defaults_with_postgresql():
    assert tuning(**POSTGRES) == [pytest.approx(0.0005), 1000, True]


def test_defaults_with_sqlite():
    """No shorter switch interval: it measured no gain there."""
    assert tuning() == [pytest.approx(CPYTHON_SWITCH_INTERVAL), 1000, True]


def test_settings_from_the_environment():
    switch, gen2, frozen = tuning(LIVEBOARD_SWITCH_INTERVAL="0.002", LIVEBOARD_GC_GEN2_THRESHOLD="50")
    assert switch == pytest.approx(0.002) and gen2 == 50 and frozen
    assert tuning(**POSTGRES, LIVEBOARD_SWITCH_INTERVAL="0.002")[0] == pytest.approx(0.002)


def test_zero_leaves_cpython_alone():
    switch, gen2, frozen = tuning(**POSTGRES, LIVEBOARD_SWITCH_INTERVAL="0", LIVEBOARD_GC_GEN2_THRESHOLD="0")
    assert switch == pytest.approx(CPYTHON_SWITCH_INTERVAL) and gen2 == 10 and not frozen


def test_a_bad_switch_interval_stops_start_up_with_a_clear_error():
    error = tuning(LIVEBOARD_SWITCH_INTERVAL="fast")
    assert "ImproperlyConfigured: LIVEBOARD_SWITCH_INTERVAL must be a number of seconds, not 'fast'" in error
