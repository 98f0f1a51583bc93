"""What a running node hands its handlers: the one place an edge and a cloud differ.

Handlers read ``self.node`` and nothing global. The edge's Node serves one
branch over its SQLite file; the cloud's serves every branch. ``build_node``
puts one together from parts its composition root opened and passes in (the
store, the realtime hub: sync/startup.py); ``publish`` is what "an event
happened" means on that node (the hub's fan-out). ``authority`` is set by the
cloud's composition root (sync/commands.py) and is None on an edge.
"""

import dataclasses
import logging
import os
from typing import Callable, Optional

from . import models
from .config import Settings
from .database import is_postgres
from .ratelimit import RateLimiter, SharedRateLimiter
from .store import Store
from .tokens import KeyRing, UnknownSigner

log = logging.getLogger("branchline.node")

EDGE, CLOUD = "edge", "cloud"


@dataclasses.dataclass
class Node:
    role: str
    settings: Settings
    store: Store
    keyring: KeyRing
    login_limiter: RateLimiter   # SharedRateLimiter over PostgreSQL: logins counted by all processes
    branch_id: Optional[int] = None          # the edge's branch; None at the cloud
    branch_name: str = ""
    publish: Callable = lambda *event: None
    # Where a branch's writes are made when this node is not its authority (the
    # cloud, for branches run by an edge): cloud/server.py sets it.
    authority: object = None
    hub: Optional[object] = None
    # The certificate an edge serves HTTPS with on the LAN (edge/lan.py sets and renews
    # them): SHA-256 of the certificate ("AB:CD:...") and of its key (base64); "" on HTTP.
    tls_fingerprint: str = ""
    tls_spki: str = ""
    # The cloud: re-read the edges enrolled (async, no argument), for a token signed
    # by a key this process has not heard of (sync/handlers.py CloudSync.refresh).
    find_signers: Optional[Callable] = None

    async def verify_token(self, token):
        """The token's claims (KeyRing.verify at the node's time), or InvalidToken. One
        signed by an edge enrolled through another process of this cloud is accepted
        at once: its key is looked up on the miss."""
        try:
            return self.keyring.verify(token, self.clock.time())
        except UnknownSigner as exc:
            if self.find_signers is None or not exc.kid.isdigit():
                raise
            await self.find_signers()
            return self.keyring.verify(token, self.clock.time())

    @property
    def clock(self):
        """The node's clock (the store's: one clock for the node's handlers and threads)."""
        return self.store.clock

    @property
    def revoked(self):
        """Token ids revoked here or on any node this one syncs with."""
        return self.store.revoked

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


def build_node(settings, *, store, hub):
    """The Node of an opened ``store`` and its realtime ``hub``: its keys, login
    limiter, the revocations still in force and, at an edge, its branch."""
    clock = store.clock
    paths = data_paths(settings)
    keyring = KeyRing.from_dir(paths["keys"], settings.node_id)
    # Registered first: revocations the listener misses while reconnecting are read
    # again, and one made before its first LISTEN is in what is read here.
    store.connect_listeners.append(lambda: store.revoke(store.call(_load_revoked, clock.now())))
    store.revoked.update(store.call(_load_revoked, clock.now()))
    node = Node(
        role=settings.role, settings=settings, store=store, keyring=keyring,
        login_limiter=(SharedRateLimiter(store, clock, settings.login_attempts_per_minute, 60)
                       if is_postgres(store.db) else
                       RateLimiter(clock, settings.login_attempts_per_minute, 60)), hub=hub,
    )
    if settings.role == EDGE:
        branch = store.call(_edge_branch, settings.branch_id)
        node.branch_id, node.branch_name = branch.id, branch.name
    node.publish = store.publish = hub.publish_events
    store.revocation_listeners.append(hub.revoke)
    return node
