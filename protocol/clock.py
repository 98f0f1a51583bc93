"""Time, injected: servers use Clock, tests use FakeClock and move it by hand."""

import datetime
import time


class Clock:
    def time(self):
        return time.time()

    def monotonic(self):
        return time.monotonic()

    def now(self):
        """The current UTC time as a naive datetime (how the database stores it)."""
        return datetime.datetime.fromtimestamp(self.time(), datetime.timezone.utc).replace(tzinfo=None)


class FakeClock(Clock):
    def __init__(self, start=1_780_000_000.0):
        self._now = start

    def time(self):
        return self._now

    def monotonic(self):
        return self._now

    def advance(self, seconds):
        self._now += seconds
