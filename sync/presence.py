"""Which edges are listening to the cloud right now.

An edge keeps a long poll open on /sync/pull whenever it is online (sync/client.py
asks again as soon as an answer is applied), so "has a pull open, or had one a
moment ago" is what "this edge will get a command now" means. The cloud answers
a branch-owned write for an edge that is not listening with 503 and Retry-After
at once, rather than queueing work nobody will do (sync/commands.py).
Presence is kept per process; where several cloud processes share a PostgreSQL
database, a pull another process holds shows only as the edge's ``last_pull_at``
(recorded when a pull begins): ``pulled_lately`` counts a pull begun within the
longest a long poll lasts, plus the grace, as listening, unless the edge was seen
here hanging up (``hung_up``).
"""

import time

GRACE_SECONDS = 5.0      # between one pull's answer and the next pull
LONGEST_PULL = 25.0      # seconds a long poll may stay open (sync/handlers.py LONG_POLL_MAX)


def pulled_lately(edge, now, shared):
    """Whether ``edge`` (its SyncNode) began a pull, at any process of a ``shared``
    database, recently enough to be listening still."""
    return bool(shared and edge.last_pull_at and
                (now - edge.last_pull_at).total_seconds() < LONGEST_PULL + GRACE_SECONDS)


class Presence:
    def __init__(self, monotonic=time.monotonic):
        self._monotonic = monotonic
        self._open = {}          # edge node id -> pulls open now
        self._closed_at = {}     # edge node id -> when its last pull ended
        self._gone = set()       # edge node ids that hung up here, not pulled here since

    def opened(self, node_id):
        self._open[node_id] = self._open.get(node_id, 0) + 1
        self._gone.discard(node_id)

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
            self._gone.add(node_id)

    def hung_up(self, node_id):
        """Whether node_id's last pull here ended with the edge hanging up."""
        return node_id in self._gone

    def pulling(self, node_id):
        """Whether node_id has a pull open here now."""
        return bool(self._open.get(node_id))

    def listening(self, node_id):
        if self.pulling(node_id):
            return True
        closed = self._closed_at.get(node_id)
        return closed is not None and self._monotonic() - closed < GRACE_SECONDS
