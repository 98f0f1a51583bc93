"""A sliding-window limit on attempts per key (login: per email and client; a rider's
code: failures per code and client)."""

import collections

from .errors import TooManyRequests


class RateLimiter:
    def __init__(self, clock, limit, window_seconds=60, max_keys=100_000):
        self.clock = clock
        self.limit = limit
        self.window = window_seconds
        self.max_keys = max_keys
        self._hits = collections.OrderedDict()

    def _recent(self, key, now):
        hits = self._hits.pop(key, None) or collections.deque()
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        self._hits[key] = hits
        if len(self._hits) > self.max_keys:
            self._hits.popitem(last=False)
        return hits

    def check(self, key, message="Too Many Attempts."):
        """Raise TooManyRequests with Retry-After when key has used up its attempts
        (counts nothing)."""
        now = self.clock.monotonic()
        hits = self._recent(key, now)
        if len(hits) >= self.limit:
            retry_after = hits[0] + self.window - now
            raise TooManyRequests(message.format(seconds=max(1, int(retry_after + 0.999))),
                                  retry_after)
        return hits

    def hit(self, key, message="Too Many Attempts."):
        """Count an attempt for key, or raise TooManyRequests with Retry-After."""
        self.check(key, message).append(self.clock.monotonic())

    def failed(self, key):
        """Count a failed attempt for key (``check`` refuses once there are enough)."""
        self._recent(key, self.clock.monotonic()).append(self.clock.monotonic())
