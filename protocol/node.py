"""What a running node hands its handlers: the one place an edge and a cloud differ.

Handlers read ``self.node`` and nothing global. The edge builds a Node that
serves one branch over its SQLite file; the cloud builds one that serves every
branch. ``publish`` is what "an event happened" means on that node (the
WebSocket hub, later also the outbox); it defaults to doing nothing. ``hub`` is the
node's realtime hub (protocol.realtime).
"""

import dataclasses
import logging
import os
from typing import Callable, Optional

from . import models, realtime
from .clock import Clock
from .config import Settings
from .db import Store, open_sqlite
from .ratelimit import RateLimiter
from .tokens import KeyRing

log = logging.getLogger("branchline.node")

EDGE, CLOUD = "edge", "cloud"


@dataclasses.dataclass
class Node:
    role: str
    settings: Settings
    store: Store
    keyring: KeyRing
    clock: Clock
    login_limiter: RateLimiter
    branch_id: Optional[int] = None          # the edge's branch; None at the cloud
    branch_name: str = ""
    revoked: set = dataclasses.field(default_factory=set)
    publish: Callable = lambda *event: None
    # Where a branch's writes are made when this node is not its authority (the
    # cloud, for branches run by an edge): sync/commands.py sets it at the cloud.
    authority: object = None
    hub: Optional[object] = None

    @property
    def node_id(self):
        return self.store.node_id

    def serves(self, branch_id):
        """Whether this node is the authority that answers for branch_id."""
        return self.branch_id is None or branch_id == self.branch_id

    def close(self):
        if self.hub is not None:
            self.hub.close()
        self.store.close()


def data_paths(settings):
    data_dir = os.path.abspath(settings.data_dir)
    return {
        "data_dir": data_dir,
        "database": os.path.join(data_dir, "%s.db" % settings.role),
        "keys": os.path.join(data_dir, "keys"),
    }


def revocations(store, jtis=()):
    """The node's set of revoked token ids: kept in the store's cache, where sync
    adds revocations made on other nodes as they arrive (sync/capture.py)."""
    revoked = store.cache.setdefault("revoked", set())
    revoked.update(jtis)
    return revoked


def _load_revoked(now):
    return {r.jti for r in models.RevokedToken.select(models.RevokedToken.jti)
            .where(models.RevokedToken.expires_at > now)}


def _edge_branch(branch_id):
    query = models.Branch.select()
    if branch_id:
        branch = query.where(models.Branch.id == branch_id).first()
        if branch is None:
            raise SystemExit("branch %d is not in this edge's database" % branch_id)
        return branch
    branches = list(query.limit(2))
    if not branches:
        raise SystemExit("this edge holds no branch yet: enroll it with the cloud first "
                         "(branchline-edge enroll --cloud-url URL --code CODE)")
    if len(branches) > 1:
        raise SystemExit("this edge's database holds several branches: set branch_id")
    return branches[0]


def build_node(settings, *, clock=None, database=None, on_open=()):
    """Open the node's database (migrating it, then ``on_open`` hooks) and keys;
    nothing listens yet."""
    clock = clock or Clock()
    paths = data_paths(settings)
    os.makedirs(paths["data_dir"], exist_ok=True)
    db = database or open_sqlite(paths["database"])
    store = Store(db, node_id=settings.node_id).open(on_open)
    keyring = KeyRing.from_dir(paths["keys"], settings.node_id)
    node = Node(
        role=settings.role, settings=settings, store=store, keyring=keyring, clock=clock,
        login_limiter=RateLimiter(clock, settings.login_attempts_per_minute, 60),
        revoked=revocations(store, store.call(_load_revoked, clock.now())),
    )
    if settings.role == EDGE:
        branch = store.call(_edge_branch, settings.branch_id)
        node.branch_id, node.branch_name = branch.id, branch.name
    node.hub = realtime.make_hub(settings, paths["keys"])
    node.publish = store.publish = node.hub.publish_events
    return node
