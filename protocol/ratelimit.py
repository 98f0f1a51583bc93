"""A sliding-window limit on attempts per key (login: per email and client)."""

import collections

from .errors import TooManyRequests


class RateLimiter:
    def __init__(self, clock, limit, window_seconds=60, max_keys=100_000):
        self.clock = clock
        self.limit = limit
        self.window = window_seconds
        self.max_keys = max_keys
        self._hits = collections.OrderedDict()

    def hit(self, key, message="Too Many Attempts."):
        """Count an attempt for key, or raise TooManyRequests with Retry-After."""
        now = self.clock.monotonic()
        hits = self._hits.pop(key, None) or collections.deque()
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        self._hits[key] = hits
        if len(self._hits) > self.max_keys:
            self._hits.popitem(last=False)
        if len(hits) >= self.limit:
            retry_after = hits[0] + self.window - now
            raise TooManyRequests(message.format(seconds=max(1, int(retry_after + 0.999))),
                                  retry_after)
        hits.append(now)
