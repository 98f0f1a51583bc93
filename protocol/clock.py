"""Time, injected: servers use Clock, tests use FakeClock and move it by hand.

Every read of the time goes through a node's clock: handlers and loops hold it
(``node.clock``); code running in a Store thread reads the clock its Store binds
there (``node_now``: the schema's default timestamps).
"""

import datetime
import threading
import time

_bound = threading.local()


class Clock:
    def time(self):
        return time.time()

    def monotonic(self):
        return time.monotonic()

    def now(self):
        """The current UTC time as a naive datetime (how the database stores it)."""
        return datetime.datetime.fromtimestamp(self.time(), datetime.timezone.utc).replace(tzinfo=None)


def bind(clock):
    """Make ``clock`` the one ``node_now`` reads in this thread (Store threads)."""
    _bound.clock = clock


def node_now():
    """The current UTC time (naive) by the clock of the node whose Store thread runs."""
    clock = getattr(_bound, "clock", None)
    if clock is None:
        raise RuntimeError("the node's clock read outside a Store worker thread")
    return clock.now()


class FakeClock(Clock):
    def __init__(self, start=1_780_000_000.0):
        self._now = start

    def time(self):
        return self._now

    def monotonic(self):
        return self._now

    def advance(self, seconds):
        self._now += seconds
