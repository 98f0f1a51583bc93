"""Row ids: integers unique across every node without coordination.

An id is ``node_id * 2**40 + n``: the node that created the row in the high
13 bits, a per-node counter in the low 40. The cloud is node 1; each edge gets
its own node id when it enrolls (2 .. 8191). Every id is below 2**53, so
JavaScript and Dart-on-web clients read it exactly, and two nodes can never
mint the same id while offline.

The counter is shared by all tables of a node. On start-up it resumes after the
highest id of the node's range found in any table, sync's included (one index
probe per table, when the node's Store opens),
so a restart never reuses an id, and no counter row has to be written inside
every transaction.
"""

import threading

from . import running

NODE_BITS = 13
COUNTER_BITS = 40
MAX_NODE_ID = 2 ** NODE_BITS - 1
CLOUD_NODE_ID = 1

def node_of(row_id):
    return row_id >> COUNTER_BITS


class IdAllocator:
    def __init__(self, node_id):
        if not 1 <= node_id <= MAX_NODE_ID:
            raise ValueError("node id must be between 1 and %d" % MAX_NODE_ID)
        self.node_id = node_id
        self.low = node_id << COUNTER_BITS
        self.high = ((node_id + 1) << COUNTER_BITS) - 1
        self._last = self.low
        self._lock = threading.Lock()

    def resume(self, last):
        """Continue after ``last``, the highest id this node has stored (found by
        ``protocol.store.highest_id`` when the node's Store opens), or None."""
        if last is None:
            return
        if not self.low <= last <= self.high:
            raise ValueError("id %d is not in node %d's range" % (last, self.node_id))
        with self._lock:
            self._last = max(self._last, last)

    def next(self):
        with self._lock:
            if self._last >= self.high:
                raise RuntimeError("node %d has used up its id range" % self.node_id)
            self._last += 1
            return self._last


def new_id():
    """The next id of the node whose Store thread is running."""
    return running.part("allocator").next()
