"""Hybrid logical clocks for shared rows (customers and their addresses).

A stamp is ``"<ms since epoch, 15 digits>.<counter, 6 digits>.<node, 4 digits>"``:
strings that sort in time order, ties broken by a counter and then by node, so
two nodes never make equal stamps. Every field a node writes in a shared row
gets the node's next stamp (``stamp``); a node that sees a stamp from another
(``observe``) moves its clock past it, so what it writes afterwards is later
than anything it has seen. sync/merge.py keeps, field by field, the value with
the later stamp. A stamp more than MAX_DRIFT_SECONDS ahead of this node's clock
is refused: one box with a wrong clock cannot win every merge for ever.
"""

import threading
import time

MAX_DRIFT_SECONDS = 300

_lock = threading.Lock()


def _state():
    from .db import current_store
    store = current_store()
    cache = store.cache if store is not None else _fallback
    return cache.setdefault("hlc", [0, 0])


_fallback = {}


def _node_id():
    from .db import current_store
    store = current_store()
    return store.node_id if store is not None else 0


def encode(ms, counter, node):
    return "%015d.%06d.%04d" % (ms, counter, node)


def decode(stamp):
    ms, counter, node = stamp.split(".")
    return int(ms), int(counter), int(node)


def stamp(now=None):
    """This node's next stamp."""
    physical = int((now if now is not None else time.time()) * 1000)
    with _lock:
        state = _state()
        if physical > state[0]:
            state[0], state[1] = physical, 0
        else:
            state[1] += 1
        return encode(state[0], state[1], _node_id())


class ClockDrift(ValueError):
    pass


def observe(remote, now=None):
    """Move this node's clock past a stamp it received (refused if too far ahead)."""
    ms, counter, _ = decode(remote)
    physical = int((now if now is not None else time.time()) * 1000)
    if ms - physical > MAX_DRIFT_SECONDS * 1000:
        raise ClockDrift("a clock %.0f s ahead of this node's" % ((ms - physical) / 1000))
    with _lock:
        state = _state()
        if (ms, counter) > tuple(state):
            state[0], state[1] = ms, counter
