"""Time, injected: servers use Clock, tests use FakeClock and move it by hand.

Every read of the time goes through a node's clock: handlers and loops hold it
(``node.clock``); code running in a Store thread reads the clock its Store binds
there (protocol/running.py; ``node_now``: the schema's default timestamps).
"""

import datetime
import time

from . import running


class Clock:
    def time(self):
        return time.time()

    def monotonic(self):
        return time.monotonic()

    def now(self):
        """The current UTC time as a naive datetime (how the database stores it)."""
        return datetime.datetime.fromtimestamp(self.time(), datetime.timezone.utc).replace(tzinfo=None)


def node_now():
    """The current UTC time (naive) by the clock of the node whose Store thread runs."""
    return running.part("clock").now()


class FakeClock(Clock):
    def __init__(self, start=1_780_000_000.0):
        self._now = start

    def time(self):
        return self._now

    def monotonic(self):
        return self._now

    def advance(self, seconds):
        self._now += seconds
