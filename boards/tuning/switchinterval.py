"""
The GIL switch interval of a server process (applied from
boards.tuning.apply_all(), like gctune).

A daphne process runs two busy threads: the event loop, which fans each
board event out to hundreds of sockets in one stretch of Python, and the
one sync thread (asgiref's), which runs every change, join and request
against the database. Each time the sync thread's database call returns it
needs the GIL back, and while the loop is fanning out CPython hands it over
only when the loop's thread has held it for the switch interval — 5 ms by
default, for each of a change's ~7 round trips. Under a burst that wait is
most of a change's time, so fewer changes reach the loop per turn and fewer
of a socket's frames share one `send()`.

`LIVEBOARD_SWITCH_INTERVAL` (seconds) shortens it. The default is 0.0005 s
with PostgreSQL, whose round trips are what the sync thread waits on, and
CPython's own with SQLite, where it measured no gain. Measured with 1,000
viewers (bench/run.py, BENCHMARKS.md, 5 runs each way): 2 processes + Redis
+ PostgreSQL ~19 % more deliveries/s in a burst (median 63.5k → 75.6k/s)
at the same latency at 10 changes/s; embedded (SQLite) within noise.
0 leaves CPython's setting alone.
"""

import sys

from django.conf import settings

_applied = False


def apply():
    global _applied
    if _applied:
        return
    _applied = True
    interval = settings.LIVEBOARD_SWITCH_INTERVAL
    if interval > 0:
        sys.setswitchinterval(interval)
