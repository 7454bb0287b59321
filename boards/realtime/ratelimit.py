"""Per-connection token bucket (SPEC §10: 20 messages/s, bursts of 40)."""

import time


class TokenBucket:
    def __init__(self, rate, burst, clock=time.monotonic):
        self.rate = float(rate)
        self.capacity = float(burst)
        self.tokens = float(burst)
        self.clock = clock
        self.stamp = clock()

    def take(self):
        """Spend one token; False when the bucket is empty."""
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False
