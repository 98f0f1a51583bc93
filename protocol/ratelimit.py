"""A sliding-window limit on attempts per key (login: per email and client; a rider's
code: failures per code and client).

``RateLimiter`` counts in the process; ``SharedRateLimiter`` counts in the
database (``rate_hits``), so that the cloud's processes over one PostgreSQL
database enforce one login limit between them. Both are asked
``await attempt(key)``.
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

    async def attempt(self, key, message="Too Many Attempts."):
        """``hit``, asked as a SharedRateLimiter is."""
        self.hit(key, message)


class SharedRateLimiter(RateLimiter):
    """The same limit, its attempts counted in the database by ``store``'s jobs
    (``check``, ``hit`` and ``failed`` still count in the process)."""

    def __init__(self, store, clock, limit, window_seconds=60):
        super().__init__(clock, limit, window_seconds)
        self.store = store
        self.span = datetime.timedelta(seconds=window_seconds)

    async def attempt(self, key, message="Too Many Attempts."):
        """Count an attempt for key, or raise TooManyRequests with Retry-After."""
        retry_after = await self.store.run(self._hit, repr(key)[:255], self.clock.now())
        if retry_after is not None:
            raise TooManyRequests(message.format(seconds=max(1, int(retry_after + 0.999))),
                                  retry_after)

    def _hit(self, key, now):
        """(Worker thread) Count an attempt for ``key``; seconds to wait when the
        limit is reached (the attempt is then not counted), else None."""
        hit = models.RateHit
        lock_key("rate:" + key)                  # two processes count one after the other
        hit.delete().where(hit.at <= now - self.span).execute()
        recent = [r.at for r in hit.select(hit.at).where(hit.key == key).order_by(hit.at)]
        if len(recent) >= self.limit:
            return (recent[0] + self.span - now).total_seconds()
        hit.create(key=key, at=now)
        return None
