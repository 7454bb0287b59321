"""
Messages dropped on purpose, counted and reported without flooding the log.

The in-memory layer drops a message for a full channel, the outbox a
broadcast past its limit; either way clients recover the event by seq. When
that happens it tends to happen for every event at once, so a warning says
how many were dropped since the last one, at most once per interval.
"""

import time

INTERVAL = 10.0  # seconds between two warnings


class Drops:
    """`count` since start; `report(**fields)` logs `message` (with %(count)d,
    the drops since the last report, and the fields) unless it did so less
    than INTERVAL ago."""

    def __init__(self, logger, message):
        self.logger = logger
        self.message = message
        self.count = 0
        self._reported = 0
        self._next_report = 0.0

    def report(self, **fields):
        now = time.monotonic()
        if now < self._next_report:
            return
        self.logger.warning(self.message, {"count": self.count - self._reported, **fields})
        self._reported = self.count
        self._next_report = now + INTERVAL
