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
        self._gone = {}          # edge node id -> when (node clock) it hung up a pull here

    def opened(self, node_id):
        self._open[node_id] = self._open.get(node_id, 0) + 1
        self._gone.pop(node_id, None)

    def closed(self, node_id, answered, at=None):
        """A pull of node_id ended: ``answered`` (it will ask again at once) or
        hung up by the edge at ``at`` (by the node's clock: it has gone)."""
        left = self._open.get(node_id, 0) - 1
        if left > 0:
            self._open[node_id] = left
        else:
            self._open.pop(node_id, None)
        if answered:
            self._closed_at[node_id] = self._monotonic()
        else:
            self._closed_at.pop(node_id, None)
            self._gone[node_id] = at

    def hung_up(self, node_id, last_pull_at=None):
        """Whether node_id's last pull here ended with the edge hanging up, and it has
        begun no pull since at any process (``last_pull_at``, the shared record)."""
        if node_id not in self._gone:
            return False
        gone_at = self._gone[node_id]
        return last_pull_at is None or gone_at is None or last_pull_at <= gone_at

    def pulling(self, node_id):
        """Whether node_id has a pull open here now."""
        return bool(self._open.get(node_id))

    def listening(self, node_id):
        if self.pulling(node_id):
            return True
        closed = self._closed_at.get(node_id)
        return closed is not None and self._monotonic() - closed < GRACE_SECONDS
