"""Test fixtures: real nodes on free ports over real SQLite files.

The demo restaurant is seeded once per session into a template database; every
test gets its own copy, so tests never share state. ``start_node`` builds an
edge or a cloud exactly as its server does (migrations, keys, app) and serves
it on a socket from ``bind_sockets(0)``; ``Server.fetch`` speaks HTTP to it.

A cloud runs on SQLite unless a module overrides ``cloud_database`` with a
PostgreSQL URL (``postgres_cloud_database``: a fresh copy of the demo restaurant
on the real server of tests/pgserver.py, skipped with the reason when there is
none).
"""

import dataclasses
import json
import os
import shutil
import sys

import pytest
import tornado.httpclient
import tornado.netutil

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from cloud import demo_data  # noqa: E402
from cloud import push_sender  # noqa: E402
from cloud import server as cloud_server  # noqa: E402
from edge import server as edge_server  # noqa: E402
from protocol import config, ed25519, process  # noqa: E402
from protocol.database import open_sqlite  # noqa: E402
from protocol.postgres_pool import open_postgres  # noqa: E402
from protocol.node import data_paths  # noqa: E402
from protocol.routes import PREFIX  # noqa: E402
from protocol.store import Store  # noqa: E402
from sync.startup import SCHEMA  # noqa: E402

import pgserver  # noqa: E402

PASSWORD = "demo12345"


def pytest_collection_modifyitems(items):
    """Files holding slow tests first, the rest after in their order: each of the
    suite's two workers takes a file at a time (--dist loadfile), and a long file
    begun near the end left the other worker idle for minutes while it ran."""
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow_files)      # a stable sort


@pytest.fixture(scope="session")
def seeded(tmp_path_factory):
    """(path of a seeded database, the seed's summary of ids)."""
    path = str(tmp_path_factory.mktemp("template") / "seed.db")
    store = Store(open_sqlite(path), node_id=1).open(SCHEMA)   # no capture: a template
    try:
        summary = store.call(demo_data.seed, PASSWORD)
    finally:
        store.close()
    return path, summary


@pytest.fixture
def demo(seeded):
    return seeded[1]


@pytest.fixture(scope="session")
def postgres():
    """The PostgreSQL server of this run (tests/pgserver.py); skips the test, with
    the reason, when there is none (fails it when one is required)."""
    try:
        server = pgserver.PostgresServer()
    except pgserver.Unavailable as exc:
        if pgserver.REQUIRED:
            pytest.fail("BRANCHLINE_REQUIRE_POSTGRES is set but %s" % exc, pytrace=False)
        pytest.skip(str(exc))
    yield server
    server.drop_all()


REDIS_URL = os.environ.get("BRANCHLINE_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="session")
def redis_url():
    """The Redis server the scaled cloud's tests share (``BRANCHLINE_REDIS_URL``); skips
    the test, with the reason, when none answers (fails it when
    ``BRANCHLINE_REQUIRE_REDIS`` is set, as in CI). The clouds of a test keep their keys
    under their own random app id, so runs never meet."""
    try:
        import redis
    except ImportError as exc:
        reason = "the redis package is not installed (pip install '.[redis]'): %s" % exc
    else:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
        try:
            client.ping()
            return REDIS_URL
        except redis.RedisError as exc:
            reason = "no Redis server at %s (set BRANCHLINE_REDIS_URL): %s" % (REDIS_URL, exc)
        finally:
            client.close()
    if os.environ.get("BRANCHLINE_REQUIRE_REDIS"):
        pytest.fail("BRANCHLINE_REQUIRE_REDIS is set but %s" % reason, pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def seeded_postgres(postgres, seeded):
    """The name of a PostgreSQL database holding the very rows of the seeded SQLite
    template (same ids, same hashes), without capture triggers: a template."""
    url = postgres.create()
    source = Store(open_sqlite(seeded[0]), node_id=1).open(SCHEMA)
    target = Store(open_postgres(url), node_id=1).open(SCHEMA)
    try:
        pgserver.copy_rows(SCHEMA, source, target)
    finally:
        source.close()
        target.close()
    return postgres.name_of(url)


@pytest.fixture
def postgres_cloud_database(postgres, seeded_postgres):
    """A fresh PostgreSQL copy of the demo restaurant for one test's cloud."""
    url = postgres.create(template=seeded_postgres)
    yield url
    postgres.release(url)


@pytest.fixture
def cloud_processes(start_node, tmp_path, postgres_cloud_database):
    """``await cloud_processes(**settings)``: two nodes of one cloud, as ``--workers 2``
    runs them but in this process: one data directory (one signing key), one
    PostgreSQL database."""
    async def start(**settings):
        shared = str(tmp_path / "cloud")
        return [await start_node("cloud", name=name, data_dir=shared,
                                 database_url=postgres_cloud_database, **settings)
                for name in ("cloud-one", "cloud-two")]
    return start


@pytest.fixture
def cloud_database():
    """The ``database_url`` of the clouds a test starts: SQLite in their data
    directory (a module overrides it to run its tests on PostgreSQL)."""
    return ""


@dataclasses.dataclass
class Response:
    status: int
    body: object
    headers: dict
    text: str

    def __repr__(self):
        return "<%d %s>" % (self.status, self.text[:300])


class Server:
    def __init__(self, node, http_server, port, sync=None, lan=None):
        self.node = node
        self.sync = sync
        self.lan = lan
        self.http_server = http_server
        self.port = port
        self.url = "%s://127.0.0.1:%d" % ("https" if node.settings.tls else "http", port)
        self.api = self.url + PREFIX
        self.client = tornado.httpclient.AsyncHTTPClient(force_instance=True)

    async def fetch(self, method, path, body=None, *, token=None, headers=None, raw=None,
                    content_type="application/json", prefix=True):
        """Call path under the API prefix (or from the server's root with
        prefix=False). body is sent as JSON; raw bytes are sent as they are."""
        url = (self.api if prefix else self.url) + path
        hdrs = {"Accept": "application/json"}
        if token:
            hdrs["Authorization"] = "Bearer " + token
        data = raw
        if body is not None:
            data = json.dumps(body, default=float).encode()
        if data is not None and content_type:
            hdrs["Content-Type"] = content_type
        hdrs.update(headers or {})
        if data is None and method in ("POST", "PUT", "PATCH"):
            data = b""
        # A TLS edge's own certificate: tests/test_discovery.py checks pinning itself.
        resp = await self.client.fetch(url, method=method, body=data, headers=hdrs,
                                       raise_error=False, allow_nonstandard_methods=True,
                                       request_timeout=60, validate_cert=False)
        text = resp.body.decode("utf-8", "replace") if resp.body else ""
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = None
        return Response(resp.code, parsed, dict(resp.headers), text)

    async def login(self, email, password=PASSWORD):
        resp = await self.fetch("POST", "/auth/login", {"email": email, "password": password})
        assert resp.status == 200, resp
        return resp.body["data"]["access_token"]

    async def close(self):
        if self.client is None:
            return
        self.http_server.stop()
        if self.lan is not None:
            await self.lan.stop()
        if self.sync is not None:
            await self.sync.stop()
        await self.http_server.close_all_connections()
        self.client.close()
        self.client = None
        await self.node.hub.stop()
        self.node.close()


def trust(*servers):
    """Make every server accept tokens signed by every other (as enrollment does)."""
    for a in servers:
        for b in servers:
            a.node.keyring.trusted[str(b.node.node_id)] = ed25519.public_key(
                b.node.keyring.private_key)


@pytest.fixture
async def start_node(tmp_path, seeded, cloud_database):
    started = []
    template, summary = seeded

    async def start(role="edge", branch="Downtown", *, node_id=None, name=None, clock=None,
                    database_path=None, sync=False, lan=False, push=False, **overrides):
        """A node as its server builds it (edge.server / cloud.server); ``sync``
        starts an enrolled edge's push and pull loops, ``lan`` announces it on the
        LAN, ``push`` starts the cloud's push sender. Edges serve plain HTTP unless
        ``plain_http=False`` is passed."""
        name = name or ("%s-%s" % (role, branch.lower()) if role == "edge" else role)
        sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
        port = sockets[0].getsockname()[1]
        values = {"data_dir": str(tmp_path / name), "host": "127.0.0.1", "port": port,
                  "node_name": name}
        if node_id is not None:
            values["node_id"] = node_id
        elif role == "edge":
            values["node_id"] = 2 + len([s for s in started if s.node.role == "edge"])
        if role == "edge":
            values["branch_id"] = summary["branches"][branch]
            values["plain_http"] = True
        else:
            values["database_url"] = cloud_database
        values.update(overrides)
        settings = config.load(role, values, environ={})
        db_path = data_paths(settings)["database"]
        if not settings.values.get("database_url") and not os.path.exists(db_path):
            os.makedirs(os.path.dirname(db_path), exist_ok=True)
            shutil.copyfile(database_path or template, db_path)
        edge_lan = None
        if role == "edge":
            node = edge_server.open_edge(settings, clock=clock)
            app = edge_server.make_edge_app(node)
            if lan or settings.tls:
                edge_lan = edge_server.open_lan(node)
        else:
            node = cloud_server.open_cloud(settings, clock=clock)
            await node.hub.start()
            app = cloud_server.make_cloud_app(node)
        server = process.http_server(app, settings, ssl=edge_lan and edge_lan.ssl_context)
        server.add_sockets(sockets)
        loops = edge_server.start_sync(node) if sync else None
        if lan:
            edge_server.start_lan(node, edge_lan, loops)
        if role == "cloud" and push:
            loops = push_sender.start(node)
        srv = Server(node, server, port, loops, edge_lan)
        started.append(srv)
        return srv

    yield start
    for srv in reversed(started):
        await srv.close()


@pytest.fixture
async def edge(start_node):
    return await start_node("edge", "Downtown")


@pytest.fixture
async def cloud(start_node):
    return await start_node("cloud")


@pytest.fixture
async def waiter(edge):
    """A token of the Downtown waiter at the Downtown edge."""
    return await edge.login("waiter@demo.test")
