"""Sync's HTTP endpoints: the cloud's (enroll, push, pull, snapshot, status)
and the edge's status page. Mounted at the server root by cloud/ and edge/."""

import asyncio
import ipaddress
import logging
from typing import Annotated, Literal, Optional

import pydantic
from typing_extensions import NotRequired, TypedDict

from protocol import database, permissions, validation
from protocol.errors import APIError, Forbidden
from protocol.handlers.base import APIHandler
from protocol.ratelimit import RateLimiter

from . import auth, enrollment, feed, ingest, shapes, status
from .presence import Presence
from .signal import Signal

log = logging.getLogger("branchline.sync")

LONG_POLL_MAX = 25.0
LOOK_AGAIN = 0.2     # seconds between looks while changes wait behind the watermark


class EnrollBody(validation.Body):
    code: str = pydantic.Field(max_length=64)
    public_key: str = pydantic.Field(max_length=4096)
    name: str = pydantic.Field("", max_length=255)


class Change(TypedDict):
    seq: Annotated[int, pydantic.Field(ge=1)]
    table: Annotated[str, pydantic.Field(max_length=64)]
    id: int
    op: Literal["upsert", "delete"]
    row: NotRequired[Annotated[Optional[dict], pydantic.SkipValidation]]


def _row_for_upsert(change):
    row = change.get("row")
    if row is None:
        if change["op"] == "upsert":
            raise ValueError("an upsert needs its row")
        change.pop("row", None)
    elif not isinstance(row, dict):
        raise ValueError("a row is an object")
    return change


# A change is validated into a dict, not a model: a batch holds thousands, and
# dumping models back into the dicts sync/ingest.py applies cost as much again
# (and its row is checked to be an object here, not copied key by key).
CheckedChange = Annotated[Change, pydantic.AfterValidator(_row_for_upsert)]


class PushBody(validation.Body):
    after: int = pydantic.Field(ge=0)
    upto: int = pydantic.Field(ge=0)
    changes: list[CheckedChange] = pydantic.Field(max_length=5000)

    @pydantic.model_validator(mode="after")
    def _after_the_position(self):
        if self.upto < self.after or any(c["seq"] <= self.after for c in self.changes):
            raise ValueError("changes must come after the batch's position")
        return self


FINGERPRINT = r"^([0-9A-F]{2}:){31}[0-9A-F]{2}$"


class EdgeLocationBody(validation.Body):
    """Where the edge is on its LAN (edge/lan.py ``Lan.report``)."""
    name: str = pydantic.Field("", max_length=255)
    host: str = pydantic.Field("", max_length=255)
    addresses: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = pydantic.Field(
        max_length=32)
    port: int = pydantic.Field(ge=1, le=65535)
    tls: bool = False
    fingerprint: Optional[str] = pydantic.Field(None, pattern=FINGERPRINT)
    spki: Optional[str] = pydantic.Field(None, max_length=64)
    api: str = pydantic.Field("", max_length=255)
    ws: str = pydantic.Field("", max_length=255)
    version: str = pydantic.Field("", max_length=64)


class PullQuery(validation.Body):
    after: int = pydantic.Field(0, ge=0, lt=2 ** 63)
    wait: float = pydantic.Field(0.0, ge=0, le=3600)
    # the edge's outbox depth and its newest change's seq (status.outbox_report), for
    # head office (status.branch_states)
    outbox_depth: Optional[int] = pydantic.Field(None, ge=0, lt=2 ** 63)
    outbox_head: int = pydantic.Field(0, ge=0, lt=2 ** 63)


class SnapshotQuery(validation.Body):
    table: Optional[str] = pydantic.Field(None, max_length=64)
    after_id: int = pydantic.Field(0, ge=0, lt=2 ** 63)


class SyncHandler(APIHandler):
    """A request signed by an enrolled edge (sync/auth.py)."""
    statuses = {"get": (401,), "post": (401,)}
    public = True
    tags = ("sync",)
    _stream_request_body = False     # the signature covers the body: read whole first

    @property
    def sync(self):
        return self.application.settings["sync"]

    async def prepare(self):
        super().prepare()
        path = self.request.uri
        node_id = self.request.headers.get("X-Branchline-Node", "")
        if node_id.isdigit() and int(node_id) not in self.sync.public_keys:
            await self.sync.refresh()        # enrolled through another cloud process?
        public_key_for = self.sync.public_keys.get
        try:
            self.edge_node_id = auth.verify(self.request.headers, self.request.method, path,
                                            self.request.body, public_key_for,
                                            now=self.node.clock.time())
        except auth.NotAuthenticated as exc:
            raise APIError("Sync request refused: %s." % exc, status=401)


class EnrollHandler(APIHandler):
    responses = {"post": shapes.Enrolled}
    statuses = {"post": (429, 507)}
    public = True
    bodies = {"post": EnrollBody}
    tags = ("sync",)

    async def post(self):
        """Enroll an edge with a one-time code and its public key."""
        sync = self.application.settings["sync"]
        sync.enroll_limiter.hit(self.request.remote_ip)
        body = self.body()
        identity = await self.run(enrollment.enroll, body.code, body.public_key, body.name,
                                  self.node.clock.now())
        sync.admit(identity["node_id"], body.public_key, identity.pop("retired"),
                   identity["branch_id"], identity["restaurant_id"])
        self.write_json(dict(identity, cloud_node_id=self.node.node_id,
                             cloud_public_key=self.node.keyring.public_pem()))


class PushHandler(SyncHandler):
    responses = {"post": shapes.Applied}
    statuses = {"post": (401, 409)}
    bodies = {"post": PushBody}

    async def post(self):
        """Apply a batch of the edge's changes; answers its high-water mark."""
        body = self.body()
        batch = {"after": body.after, "upto": body.upto, "changes": body.changes}
        try:
            answer = await self.run(ingest.apply_batch, self.edge_node_id, batch,
                                    self.node.clock.now())
        except APIError:
            raise
        except Exception as exc:
            # A fault of the cloud's, not a refusal: nothing of the batch was kept,
            # the edge is answered 500 (logged with its traceback) and sends it again.
            self.sync.push_errors[self.edge_node_id] = {
                "at": self.node.clock.now().isoformat() + "Z",
                "error": "%s: %s" % (type(exc).__name__, exc)}
            raise
        self.sync.push_errors.pop(self.edge_node_id, None)
        self.write_json(answer)


class LocationHandler(SyncHandler):
    responses = {"post": shapes.EdgeLocated}
    bodies = {"post": EdgeLocationBody}

    async def post(self):
        """Where the edge now is on its branch's LAN: its addresses, port, TLS and the
        certificate's fingerprints (sent at start and when they change); apps of the
        branch read it from GET /platform/edge."""
        report = self.body().model_dump(mode="json")
        await self.run(enrollment.record_location, self.edge_node_id, report,
                       self.node.clock.now())
        self.write_json({"recorded": True})


class PullHandler(SyncHandler):
    responses = {"get": shapes.Changes}
    queries = {"get": PullQuery}

    async def get(self):
        """Changes after ``after`` the edge's branch may see; waits up to ``wait``
        seconds (at most LONG_POLL_MAX) for one when there are none (long poll)."""
        query = self.query()
        if query.outbox_depth is not None:
            self.sync.outboxes[self.edge_node_id] = (query.outbox_depth, query.outbox_head,
                                                     self.node.clock.now())
        self.sync.presence.opened(self.edge_node_id)
        try:
            await self._answer(query.after, min(LONG_POLL_MAX, query.wait))
        finally:
            self.sync.presence.closed(self.edge_node_id, answered=not self._gone.done(),
                                      at=self.node.clock.now())

    async def _answer(self, after, wait):
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        record = True
        while True:
            # Armed before the query: a commit that lands while it runs still wakes us.
            rung = asyncio.ensure_future(self.sync.committed.wait(max(0.0, deadline - loop.time())))
            batch = await self.run(feed.changes_for, self.edge_node_id, after,
                                   self.node.clock.now(), record=record)
            record = False
            if batch["changes"] or deadline <= loop.time():
                rung.cancel()
                break
            # Changes for the edge committed behind a transaction still open (on
            # PostgreSQL: sync/postgres.py): no commit here may tell when it ends.
            waits = [rung, self._gone] + ([asyncio.ensure_future(asyncio.sleep(LOOK_AGAIN))]
                                          if batch["held"] else [])
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            for waiting in waits[2:] + [rung]:
                waiting.cancel()
            if self._gone.done():
                return              # the edge hung up (or the server is stopping)
        del batch["held"]
        self.write_json(dict(batch, head=await self.run(feed.head)))

    def initialize(self):
        self._gone = asyncio.get_event_loop().create_future()

    def on_connection_close(self):
        if not self._gone.done():
            self._gone.set_result(True)


class SnapshotHandler(SyncHandler):
    responses = {"get": shapes.Snapshot}
    queries = {"get": SnapshotQuery}
    statuses = {"get": (401, 404)}

    async def get(self):
        """Without ``table``: the cursor to pull from afterwards and the tables to
        fetch; with it: a page of that table's rows after ``after_id``."""
        query = self.query()
        table, after_id = query.table, query.after_id
        if table is None:
            cursor = await self.run(feed.head)       # before reading: later changes re-fed
            self.write_json({"cursor": cursor,
                             "tables": await self.run(feed.snapshot_tables, self.edge_node_id)})
            return
        try:
            rows = await self.run(feed.snapshot_page, self.edge_node_id, table, after_id)
        except KeyError:
            raise APIError("No such table.", status=404)
        self.write_json({"table": table, "rows": rows})


def _require_manager(actor):
    if not permissions.is_manager(actor.roles):
        raise Forbidden("Only managers and owners see sync status.")


class CloudStatusHandler(APIHandler):
    responses = {"get": shapes.CloudStatus}
    tags = ("sync",)

    async def get(self):
        """Sync health of every edge of the caller's restaurant."""
        def read(actor):
            _require_manager(actor)
            return status.cloud_status(self.node.clock.now(), actor.restaurant_id,
                                       self.application.settings["sync"].push_errors)
        self.write_json(await self.actor_run(read))


class EdgeStatusHandler(APIHandler):
    responses = {"get": shapes.EdgeStatus}
    tags = ("sync",)

    async def get(self):
        """This edge's outbox depth, oldest unsent change, last push and pull, dead
        letters (managers and owners: it names rows and reasons)."""
        cloud_url = self.node.settings.values.get("cloud_url", "")

        def read(actor):
            _require_manager(actor)
            return status.edge_status(self.node.clock.now(), cloud_url)
        self.write_json(await self.actor_run(read))


class CloudSync:
    """The cloud's sync state shared by its handlers.

    The edges it accepts (their keys, for sync requests and the tokens they sign)
    are those enrolled and not retired in the database. Of several processes, the
    one an edge enrolled through admits it at once; another looks it up on the
    edge's first request or token (``refresh``), and hears of a box retired
    (replaced) or enrolled anywhere by a notice (a trigger on sync_nodes,
    migration 0015), re-read in full whenever its listener reconnects."""

    def __init__(self, node):
        self.node = node
        self.committed = Signal()
        node.store.commit_listeners.append(self.committed.ring)
        self.presence = Presence()
        self.enroll_limiter = RateLimiter(node.clock, 10, 60)
        self.public_keys = {}
        self._refreshing = None        # the read of the edges under way (refresh)
        self.push_errors = {}          # edge node id: its last push that failed here
        self.outboxes = {}             # edge node id: (depth, newest seq, when it said so)
        self._settle(node.store.call(enrollment.active_edges))
        node.find_signers = self.refresh
        if database.is_postgres(node.store.db):
            loop = asyncio.get_running_loop()

            def reread(payloads=None):      # the listener's thread
                edges = node.store.call(enrollment.active_edges)
                if not loop.is_closed():
                    loop.call_soon_threadsafe(self._settle, edges)
            node.store.notice_listeners.setdefault(database.EDGES_CHANNEL, []).append(reread)
            node.store.connect_listeners.append(reread)

    async def refresh(self):
        """Admit the edges enrolled through another process of this cloud since this
        one last looked, and forget the boxes retired. Callers meanwhile share the read
        under way: tokens naming signers nobody enrolled (any request may carry one)
        cost one query at a time, not one each."""
        if self._refreshing is None:
            self._refreshing = asyncio.ensure_future(self._read_edges())
        await asyncio.shield(self._refreshing)

    async def _read_edges(self):
        try:
            self._settle(await self.node.store.run(enrollment.active_edges))
        finally:
            self._refreshing = None

    def _settle(self, edges):
        active = {edge["node_id"] for edge in edges}
        retired = [node_id for node_id in self.public_keys if node_id not in active]
        for node_id in retired:
            log.info("edge %d retired: its requests and tokens are refused", node_id)
        for edge in edges:
            if self.public_keys.get(edge["node_id"]) != edge["public_key"]:
                self.admit(edge["node_id"], edge["public_key"], [], edge["branch_id"],
                           edge["restaurant_id"])
        self.forget(retired)

    def branch_states(self, now, branch_ids):
        """Head office's ``branch_sync`` service (protocol/handlers/head_office.py):
        the sync state of the branches an edge runs; in a Store thread."""
        return status.branch_states(now, branch_ids, self.push_errors, self.outboxes,
                                    self.presence.listening)

    def admit(self, node_id, pem, retired, branch_id, restaurant_id):
        """Accept node_id's sync requests, and its tokens for its own branch (and that
        branch's restaurant) only; forget the boxes it replaced."""
        self.forget(retired)
        self.public_keys[node_id] = pem
        self.node.keyring.trust_pem(node_id, pem, branch_id, restaurant_id)

    def forget(self, node_ids):
        """Refuse the sync requests and tokens of the boxes ``node_ids`` from now on."""
        for old in node_ids:
            self.public_keys.pop(old, None)
            self.node.keyring.distrust(old)


def edge_branch_sync(node):
    """Head office's ``branch_sync`` service at an edge: its own branch's sync state,
    as the edge sees it; in a Store thread."""
    def states(now, branch_ids):
        if node.branch_id not in branch_ids:
            return {}
        cloud_url = node.settings.values.get("cloud_url", "")
        return {node.branch_id: status.edge_branch_state(now, cloud_url, node.node_id)}
    return states


def cloud_routes():
    return [
        (r"/sync/enroll", EnrollHandler),
        (r"/sync/push", PushHandler),
        (r"/sync/pull", PullHandler),
        (r"/sync/location", LocationHandler),
        (r"/sync/snapshot", SnapshotHandler),
        (r"/sync/status", CloudStatusHandler),
    ]


def edge_routes():
    return [(r"/sync/status", EdgeStatusHandler)]

