"""The node whose Store worker thread is running: the parts code in that thread may reach.

A Store binds its database, id allocator, hybrid clock, clock and itself to each of its
worker threads (``bind``, protocol/store.py); the database proxy, ``ids.new_id``,
``hlc.stamp``, ``clock.node_now`` and ``store.current_store`` read them here (``part``).
Binding per thread, not per process, lets a test run an edge and a cloud in one process.
This module imports nothing of ours.
"""

import threading

_local = threading.local()


def bind(**parts):
    """Bind the running node's parts (database, allocator, hlc, clock, store) to this thread."""
    _local.__dict__.update(parts)


def part(name):
    """The running node's ``name``; outside a Store worker thread, a RuntimeError."""
    value = getattr(_local, name, None)
    if value is None:
        raise RuntimeError("the node's %s used outside a Store worker thread; use store.run()"
                           % name)
    return value
