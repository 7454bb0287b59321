"""
Garbage-collector settings for a server process (applied from
BoardsConfig.ready()).

A process holding 1,000 sockets keeps several hundred thousand long-lived
objects (connections, consumers, protocol state) next to Django's own. Every
broadcast makes a burst of short-lived containers (queued messages, futures,
frames) that are still in flight when a young collection runs, so they get
promoted and, with CPython's default thresholds (700, 10, 10), trigger a
*full* collection — a walk over every object — every few seconds under
fan-out. Measured (bench/run.py, 1,000 viewers, BENCHMARKS.md): ~15 % of the
server's CPU per delivered frame and 150–300 ms pauses that set the p99
latency at 10 changes/s. Later, with far less garbage per broadcast, the
CPU gain was gone but the pauses were not: each process of the scaled stack
ran full collections of 90–190 ms during a burst without this, none with it.

So:

* `gc.freeze()` once Django is set up: modules, settings, URL patterns and
  the like live for the whole process; the collector stops walking them.
* The third threshold (young-generation collections between full ones) is
  raised from 10 to `LIVEBOARD_GC_GEN2_THRESHOLD` (default 1000). Young
  collections run as before, so short-lived cycles are still freed at once;
  cycles among *old* objects (e.g. a socket open for minutes that closed)
  wait for the next full collection, which still comes after a bounded
  number of allocations (~7 million with the defaults).

LIVEBOARD_GC_GEN2_THRESHOLD=0 leaves CPython's settings alone.
"""

import gc

from django.conf import settings

_applied = False


def apply():
    global _applied
    if _applied:
        return
    _applied = True
    gen2 = settings.LIVEBOARD_GC_GEN2_THRESHOLD
    if gen2 <= 0:
        return
    gen0, gen1, _ = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(gen0, gen1, gen2)
