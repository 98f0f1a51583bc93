"""Which edges are listening to the cloud right now.

An edge keeps a long poll open on /sync/pull whenever it is online (sync/client.py
asks again as soon as an answer is applied), so "has a pull open, or had one a
moment ago" is what "this edge will get a command now" means. The cloud answers
a branch-owned write for an edge that is not listening with 503 and Retry-After
at once, rather than queueing work nobody will do (sync/commands.py).
(Per process: several cloud processes would share it through their database.)
"""

import time

GRACE_SECONDS = 5.0      # between one pull's answer and the next pull


class Presence:
    def __init__(self, monotonic=time.monotonic):
        self._monotonic = monotonic
        self._open = {}          # edge node id -> pulls open now
        self._closed_at = {}     # edge node id -> when its last pull ended

    def opened(self, node_id):
        self._open[node_id] = self._open.get(node_id, 0) + 1

    def closed(self, node_id, answered):
        """A pull of node_id ended: ``answered`` (it will ask again at once) or
        hung up by the edge (it has gone)."""
        left = self._open.get(node_id, 0) - 1
        if left > 0:
            self._open[node_id] = left
        else:
            self._open.pop(node_id, None)
        if answered:
            self._closed_at[node_id] = self._monotonic()
        else:
            self._closed_at.pop(node_id, None)

    def pulling(self, node_id):
        """Whether node_id has a pull open here now."""
        return bool(self._open.get(node_id))

    def listening(self, node_id):
        if self.pulling(node_id):
            return True
        closed = self._closed_at.get(node_id)
        return closed is not None and self._monotonic() - closed < GRACE_SECONDS
