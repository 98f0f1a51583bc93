"""A sliding-window limit on attempts per key (login: per email and client).

``RateLimiter`` counts in the process; ``SharedRateLimiter`` counts in the
database (``rate_hits``), so that the cloud's processes over one PostgreSQL
database enforce one limit between them. Both are asked ``await check(key)``.
"""

import collections
import datetime

from . import models
from .database import lock_key
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

    async def check(self, key, message="Too Many Attempts."):
        self.hit(key, message)


class SharedRateLimiter:
    """The same limit, counted in the database by ``store``'s jobs."""

    def __init__(self, store, clock, limit, window_seconds=60):
        self.store, self.clock = store, clock
        self.limit = limit
        self.window = datetime.timedelta(seconds=window_seconds)

    async def check(self, key, message="Too Many Attempts."):
        retry_after = await self.store.run(self._hit, repr(key)[:255], self.clock.now())
        if retry_after is not None:
            raise TooManyRequests(message.format(seconds=max(1, int(retry_after + 0.999))),
                                  retry_after)

    def _hit(self, key, now):
        """(Worker thread) Count an attempt for ``key``; seconds to wait when the
        limit is reached (the attempt is then not counted), else None."""
        hit = models.RateHit
        lock_key("rate:" + key)                  # two processes count one after the other
        hit.delete().where(hit.at <= now - self.window).execute()
        recent = [r.at for r in hit.select(hit.at).where(hit.key == key).order_by(hit.at)]
        if len(recent) >= self.limit:
            return (recent[0] + self.window - now).total_seconds()
        hit.create(key=key, at=now)
        return None
