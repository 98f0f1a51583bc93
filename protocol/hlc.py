"""Hybrid logical clocks for shared rows (customers and their addresses).

A stamp is ``"<ms since epoch, 15 digits>.<counter, 6 digits>.<node, 4 digits>"``:
strings that sort in time order, ties broken by a counter and then by node, so
two nodes never make equal stamps. Every field a node writes in a shared row
gets the node's next stamp (``stamp``); a node that sees a stamp from another
(``observe``) moves its clock past it, so what it writes afterwards is later
than anything it has seen. sync/merge.py keeps, field by field, the value with
the later stamp. A stamp more than MAX_DRIFT_SECONDS ahead of this node's clock
is refused: one box with a wrong clock cannot win every merge for ever.

Each node's Store owns one ``HybridClock`` and binds it to its worker threads
(protocol/running.py), as it does the id allocator; ``stamp()`` and ``observe()`` use the
clock of the node whose thread calls them.
"""

import threading

from . import running

MAX_DRIFT_SECONDS = 300

def encode(ms, counter, node):
    return "%015d.%06d.%04d" % (ms, counter, node)


def decode(stamp):
    ms, counter, node = stamp.split(".")
    return int(ms), int(counter), int(node)


class ClockDrift(ValueError):
    pass


class HybridClock:
    """One node's hybrid logical clock, reading physical time from ``clock``
    (protocol.clock.Clock)."""

    def __init__(self, node_id, clock):
        self.node_id = node_id
        self.clock = clock
        self._ms = self._counter = 0
        self._lock = threading.Lock()

    def _physical_ms(self):
        return int(self.clock.time() * 1000)

    def stamp(self):
        """This node's next stamp."""
        physical = self._physical_ms()
        with self._lock:
            if physical > self._ms:
                self._ms, self._counter = physical, 0
            else:
                self._counter += 1
            return encode(self._ms, self._counter, self.node_id)

    def observe(self, remote):
        """Move this clock past a stamp received (refused if too far ahead)."""
        ms, counter, _ = decode(remote)
        physical = self._physical_ms()
        if ms - physical > MAX_DRIFT_SECONDS * 1000:
            raise ClockDrift("a clock %.0f s ahead of this node's" % ((ms - physical) / 1000))
        with self._lock:
            if (ms, counter) > (self._ms, self._counter):
                self._ms, self._counter = ms, counter


def _bound():
    return running.part("hlc")


def stamp():
    """The next stamp of the node whose Store thread is running."""
    return _bound().stamp()


def observe(remote):
    """Move the running node's clock past ``remote`` (ClockDrift if too far ahead)."""
    _bound().observe(remote)
