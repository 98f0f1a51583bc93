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

A cloud on PostgreSQL may run as several processes, all node 1: there the
counter moves in blocks of BLOCK_SIZE ids, each block taken from a database
sequence shared by the processes (``blocks``: protocol/store.py), so two
processes never mint the same id; a restart leaves the rest of its block unused.
"""

import threading

from . import running

NODE_BITS = 13
COUNTER_BITS = 40
MAX_NODE_ID = 2 ** NODE_BITS - 1
CLOUD_NODE_ID = 1
BLOCK_SIZE = 1024

def node_of(row_id):
    return row_id >> COUNTER_BITS


class IdAllocator:
    """``blocks``: None (the node's only process counts by itself), or a function
    answering the number of a block of ids no other process will use (0, 1, ...:
    block b holds the BLOCK_SIZE ids after ``low + b * BLOCK_SIZE``)."""

    def __init__(self, node_id, blocks=None):
        if not 1 <= node_id <= MAX_NODE_ID:
            raise ValueError("node id must be between 1 and %d" % MAX_NODE_ID)
        self.node_id = node_id
        self.low = node_id << COUNTER_BITS
        self.high = ((node_id + 1) << COUNTER_BITS) - 1
        self._last = self.low
        self._blocks = blocks
        self._block_end = self.low       # no block yet
        self._lock = threading.Lock()

    def block_after(self, last):
        """The number of the first block wholly after id ``last`` (or None)."""
        return 0 if last is None else (last - self.low) // BLOCK_SIZE + 1

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
            while self._blocks is not None and self._last >= self._block_end:
                start = self.low + self._blocks() * BLOCK_SIZE
                if start >= self._last:        # never a block below an id in use here
                    self._last, self._block_end = start, start + BLOCK_SIZE
            if self._last >= self.high:
                raise RuntimeError("node %d has used up its id range" % self.node_id)
            self._last += 1
            return self._last


def new_id():
    """The next id of the node whose Store thread is running."""
    return running.part("allocator").next()
