"""A sliding-window limit on attempts per key (login: per email and client; a rider's
code: failures per code and client).

``RateLimiter`` counts in the process; ``SharedRateLimiter`` counts in the
database (``rate_hits``), so that the cloud's processes over one PostgreSQL
database enforce one limit between them: an attacker spreading guesses over the
processes gets no more than against one. Both are asked the same way, in a
handler:

- ``await attempt(key)``: count an attempt, or raise 429 once there are enough
  (logins: every attempt counts);
- ``await refuse_spent(key)`` before trying and ``await failed(key)`` after a
  failure (rider codes: only failures count).
"""

import collections
import datetime

from . import models
from .database import lock_key
from .errors import TooManyRequests


def _too_many(message, retry_after):
    return TooManyRequests(message.format(seconds=max(1, int(retry_after + 0.999))),
                           retry_after)


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
            raise _too_many(message, hits[0] + self.window - now)
        return hits

    def hit(self, key, message="Too Many Attempts."):
        """Count an attempt for key, or raise TooManyRequests with Retry-After."""
        self.check(key, message).append(self.clock.monotonic())

    async def attempt(self, key, message="Too Many Attempts."):
        """``hit``, asked as a SharedRateLimiter is."""
        self.hit(key, message)

    async def refuse_spent(self, key, message="Too Many Attempts."):
        """``check``, asked as a SharedRateLimiter is."""
        self.check(key, message)

    async def failed(self, key):
        """Count a failed attempt for key (``refuse_spent`` refuses once there are
        enough)."""
        self._recent(key, self.clock.monotonic()).append(self.clock.monotonic())


class SharedRateLimiter(RateLimiter):
    """The same limit, its attempts counted in the database by ``store``'s jobs
    (``check`` and ``hit``, which answer at once, still count in the process)."""

    def __init__(self, store, clock, limit, window_seconds=60):
        super().__init__(clock, limit, window_seconds)
        self.store = store
        self.span = datetime.timedelta(seconds=window_seconds)

    async def attempt(self, key, message="Too Many Attempts."):
        await self._ask(key, message, check=True, count=True)

    async def refuse_spent(self, key, message="Too Many Attempts."):
        await self._ask(key, message, check=True, count=False)

    async def failed(self, key):
        await self._ask(key, "", check=False, count=True)

    async def _ask(self, key, message, *, check, count):
        retry_after = await self.store.run(self._count, repr(key)[:255], self.clock.now(),
                                           check, count)
        if retry_after is not None:
            raise _too_many(message, retry_after)

    def _count(self, key, now, check, count):
        """(Worker thread) Seconds to wait when ``check`` finds ``key``'s attempts
        used up (nothing is counted then), else None, having counted one if ``count``."""
        hit = models.RateHit
        lock_key("rate:" + key)                  # two processes count one after the other
        hit.delete().where(hit.at <= now - self.span).execute()
        if check:
            recent = [r.at for r in hit.select(hit.at).where(hit.key == key).order_by(
                hit.at).limit(self.limit)]
            if len(recent) >= self.limit:
                return (recent[0] + self.span - now).total_seconds()
        if count:
            hit.create(key=key, at=now)
        return None
