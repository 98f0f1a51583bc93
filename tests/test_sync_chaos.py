"""Sync under faults, with real processes and sockets.

Each test runs a cloud (``python -m cloud``) over a copy of the demo database
and a Downtown edge enrolled with it (``python -m edge enroll``, then
``python -m edge``), takes orders and payments on the edge over HTTP as a till
would (every write under an Idempotency-Key, retried with the same key after a
connection error), and breaks things on the way: a proxy that drops, delays,
duplicates, reorders and cuts the sync traffic (tests/faultproxy.py),
``kill -9`` of either process, and an outage of the cloud. After each the
processes are stopped and both SQLite files are read: every order and payment
is there exactly once on both sides with identical rows, the edge's outbox is
empty and its acknowledged position is the cloud's high-water mark for it, its
feed cursor is the cloud's head, and there are no dead letters but the ones a
test provokes on purpose. With ``cloud_database`` overridden
(tests/test_sync_postgres.py) the cloud runs on PostgreSQL and its rows are read
from there.
"""

import asyncio
import datetime
import itertools
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import zoneinfo

import pytest
import tornado.httpclient

import pgserver
from faultproxy import ACTIONS, FaultProxy
from protocol import models
from protocol.postgres_pool import open_database
from sync.startup import open_store

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
D = "Downtown"
PASSWORD = "demo12345"
API = "/api/application-integration"
# The till speaks plain HTTP to the edge (tests/test_discovery.py covers its HTTPS).
ENV = dict({k: v for k, v in os.environ.items() if not k.startswith("BRANCHLINE_")},
           PYTHONPATH=ROOT, BRANCHLINE_PLAIN_HTTP="true")

# The branch's rows compared between the two databases (:b is the branch's id).
OF_ORDERS = "order_id IN (SELECT id FROM orders WHERE branch_id = :b)"
BRANCH_ROWS = {
    "orders": "branch_id = :b", "order_items": OF_ORDERS, "order_taxes": OF_ORDERS,
    "order_charges": OF_ORDERS, "kots": "branch_id = :b",
    "kot_items": "kot_id IN (SELECT id FROM kots WHERE branch_id = :b)",
    "payments": "branch_id = :b", "tables": "branch_id = :b", "table_locks": "branch_id = :b",
    "reservations": "branch_id = :b", "notifications": "branch_id = :b",
    "number_sequences": "branch_id = :b", "menu_items": "branch_id = :b",
    "menu_item_prices": "menu_item_id IN (SELECT id FROM menu_items WHERE branch_id = :b)",
    "sync_commands": "branch_id = :b", "sync_command_results": "branch_id = :b",
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_command(*args):
    done = subprocess.run([sys.executable, *args], cwd=ROOT, env=ENV, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


class NodeProcess:
    """``python -m cloud|edge`` over a data directory; restartable on the same port."""

    def __init__(self, role, data_dir, port, *extra):
        self.role, self.data_dir, self.port, self.extra = role, data_dir, port, extra
        self.log_path = os.path.join(os.path.dirname(data_dir), "%s.log" % role)
        self.proc = None
        self.starts = 0

    def start(self):
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", self.role, "--data-dir", self.data_dir,
                 "--port", str(self.port), "--host", "127.0.0.1", *self.extra],
                cwd=ROOT, env=ENV, stdout=log, stderr=subprocess.STDOUT)
        self.starts += 1

    async def ready(self, http, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise AssertionError("%s exited with %s:\n%s" % (
                    self.role, self.proc.returncode, self.log_tail()))
            code, _ = await http.call(self.port, "GET", API + "/openapi.json", timeout=5)
            if code == 200:
                return
            assert time.monotonic() < deadline, "%s not ready:\n%s" % (self.role,
                                                                       self.log_tail())
            await asyncio.sleep(0.05)

    async def kill(self):
        """kill -9: no clean-up of any kind."""
        self.proc.send_signal(signal.SIGKILL)
        await asyncio.to_thread(self.proc.wait)

    async def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.to_thread(self.proc.wait, 20)
        except subprocess.TimeoutExpired:
            await self.kill()
            raise AssertionError("%s did not stop on SIGTERM" % self.role)

    def log_tail(self, lines=40):
        with open(self.log_path, errors="replace") as fh:
            return "".join(fh.readlines()[-lines:])


class Http:
    """JSON over HTTP to the nodes' ports; (599, reason) when nobody answers."""

    def __init__(self):
        self.client = tornado.httpclient.AsyncHTTPClient(force_instance=True, max_clients=64)
        self.retries = 0            # writes sent again after a connection error

    async def call(self, port, method, path, body=None, *, token=None, key=None, timeout=30):
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = "Bearer " + token
        if key:
            headers["Idempotency-Key"] = key
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            resp = await self.client.fetch(
                "http://127.0.0.1:%d%s" % (port, path), method=method, body=data,
                headers=headers, raise_error=False, request_timeout=timeout, connect_timeout=5)
        except (OSError, tornado.httpclient.HTTPClientError) as exc:    # refused, reset
            return 599, str(exc)
        if resp.code == 599:
            return 599, str(resp.error)
        try:
            return resp.code, json.loads(resp.body) if resp.body else None
        except ValueError:
            return resp.code, resp.body

    async def write(self, port, method, path, body, *, token, key, expect, within=90):
        """A write as a till makes it: after a connection error, the same request
        again with the same Idempotency-Key until the node answers."""
        deadline = time.monotonic() + within
        while True:
            code, answer = await self.call(port, method, API + path, body, token=token,
                                           key=key)
            if code != 599:
                assert code == expect, (method, path, code, answer)
                return answer
            assert time.monotonic() < deadline, "no answer to %s %s: %s" % (method, path,
                                                                            answer)
            self.retries += 1
            await asyncio.sleep(0.1)

    def close(self):
        self.client.close()


class Cluster:
    """A cloud and the Downtown edge enrolled with it, as separate processes."""

    def __init__(self, tmp_path, seeded, database_url="", cloud_args=()):
        self.dir = tmp_path
        self.database_url = database_url      # the cloud's; empty: SQLite
        self.cloud_args = tuple(cloud_args)   # more flags for the cloud (--workers 2)
        self.template, self.demo = seeded
        self.branch_id = self.demo["branches"][D]
        self.http = Http()
        self.cloud = self.edge = None
        self.proxy = None
        self.owner = None

    async def start(self, *, proxy_seed=None, front=None):
        """Cloud up, edge enrolled and serving; with ``proxy_seed`` the edge syncs
        through a FaultProxy (faults on), with ``front`` (an async function of the
        cloud's port answering a URL) through what it starts there (nginx)."""
        cloud_dir = str(self.dir / "cloud" / "data")
        os.makedirs(cloud_dir)
        on_database = ("--database-url", self.database_url) if self.database_url else ()
        if not self.database_url:
            shutil.copyfile(self.template, os.path.join(cloud_dir, "cloud.db"))
        code = run_command("-m", "cloud", "enroll-code", "--branch-id", str(self.branch_id),
                           "--data-dir", cloud_dir, *on_database).split()[0]
        self.cloud = NodeProcess("cloud", cloud_dir, free_port(), *on_database,
                                 *self.cloud_args)
        self.cloud.start()
        await self.cloud.ready(self.http)
        cloud_url = "http://127.0.0.1:%d" % self.cloud.port
        edge_dir = str(self.dir / "edge" / "data")
        os.makedirs(os.path.dirname(edge_dir))
        run_command("-m", "edge", "enroll", "--cloud-url", cloud_url, "--code", code,
                    "--data-dir", edge_dir, "--name", "chaos-box")
        with open(os.path.join(edge_dir, "enrollment.json")) as fh:
            self.node_id = json.load(fh)["node_id"]
        extra = ()
        if proxy_seed is not None:
            self.proxy = await FaultProxy(self.cloud.port, seed=proxy_seed).start()
            extra = ("--cloud-url", self.proxy.url)
        elif front is not None:
            extra = ("--cloud-url", await front(self.cloud.port))
        self.edge = NodeProcess("edge", edge_dir, free_port(), *extra)
        self.edge.start()
        await self.edge.ready(self.http)
        self.owner = await self.login(self.cloud, "owner@demo.test")
        return await self.login(self.edge, "waiter@demo.test")

    async def login(self, node, email):
        answer = await self.http.write(node.port, "POST", "/auth/login",
                                       {"email": email, "password": PASSWORD}, token=None,
                                       key=None, expect=200)
        return answer["data"]["access_token"]

    async def restart(self, node, pause=0.0):
        await node.kill()
        await asyncio.sleep(pause)
        node.start()
        await node.ready(self.http)

    async def close(self):
        for node in (self.edge, self.cloud):
            if node is not None:
                await node.stop()
        if self.proxy is not None:
            await self.proxy.close()
        self.http.close()

    def plain_items(self):
        """The branch's items that need no variation or modifier chosen."""
        db = sqlite3.connect(self.template)
        try:
            return [r[0] for r in db.execute(
                "SELECT id FROM menu_items WHERE branch_id = ? AND id NOT IN "
                "(SELECT menu_item_id FROM menu_item_variations) AND id NOT IN "
                "(SELECT menu_item_id FROM item_modifiers) ORDER BY id", (self.branch_id,))]
        finally:
            db.close()

    async def edit_at_the_edge_what_only_head_office_may(self):
        """Rename a tax in the edge's database behind its back, while it is stopped
        (the API refuses it, and a second writer would race the edge's
        transactions); the cloud refuses the change, taxes being head office's.
        Answers the tax's id."""
        tax = min(self.demo["taxes"].values())
        await self.edge.stop()
        db = sqlite3.connect(os.path.join(self.edge.data_dir, "edge.db"))
        try:
            with db:
                db.execute("UPDATE taxes SET tax_name = 'Edge tax' WHERE id = ?", (tax,))
        finally:
            db.close()
        self.edge.start()
        await self.edge.ready(self.http)
        return tax

    # --- watching sync -----------------------------------------------------------

    async def edge_status(self):
        code, answer = await self.http.call(self.edge.port, "GET", "/sync/status",
                                            token=self.owner)
        return answer if code == 200 else None

    async def cloud_status(self):
        """(head, this edge's row) from the cloud's status page."""
        code, answer = await self.http.call(self.cloud.port, "GET", "/sync/status",
                                            token=self.owner)
        if code != 200:
            return None, None
        (row,) = [e for e in answer["edges"] if e["node_id"] == self.node_id]
        return answer["head"], row

    async def eventually(self, check, timeout, what):
        deadline = time.monotonic() + timeout
        while True:
            value = await check()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError("%s not within %d s\nedge: %s\ncloud: %s\n%s" % (
                    what, timeout, await self.edge_status(), await self.cloud_status(),
                    self.edge.log_tail(15)))
            await asyncio.sleep(0.2)

    async def settle(self, timeout=90):
        """Wait until the cloud has everything the edge wrote and the edge has
        everything the cloud has for it, and nothing moves any more."""
        async def positions():
            edge = await self.edge_status()
            head, row = await self.cloud_status()
            if edge and row and edge["outbox_depth"] == 0 and row["feed_lag"] == 0 and \
                    edge["acked_seq"] == row["high_water_mark"] and edge["feed_cursor"] == head:
                return head, row["high_water_mark"]
        await self.eventually(self.pushed, timeout, "the edge's outbox drained")
        # An idle edge's long poll answers when the cloud has news for it (or after
        # 20 s); a restart makes its first pull answer at once, with the head.
        await self.edge.stop()
        self.edge.start()
        await self.edge.ready(self.http)

        async def still():
            before = await positions()
            await asyncio.sleep(1)
            return before is not None and before == await positions()
        await self.eventually(still, 30, "the edge's feed cursor at the cloud's head")

    async def pushed(self):
        """Whether the edge's outbox is empty and the cloud has all of it."""
        edge = await self.edge_status()
        _, row = await self.cloud_status()
        return (edge and row and edge["outbox_depth"] == 0 and
                edge["acked_seq"] == row["high_water_mark"])

    # --- the databases, read after the processes stopped ------------------------------

    def database(self, node):
        if node.role == "cloud" and self.database_url:
            return pgserver.connect(self.database_url)
        path = os.path.join(node.data_dir, "%s.db" % node.role)
        db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
        db.row_factory = sqlite3.Row
        return db

    def statuses_at_the_edge(self, order_ids):
        """The set of the statuses of those orders in the edge's database."""
        edge = self.database(self.edge)
        try:
            return {r[0] for r in edge.execute(
                "SELECT status FROM orders WHERE id IN (%s)" % ",".join(map(str, order_ids)))}
        finally:
            edge.close()

    def branch_rows(self, db):
        return {table: [tuple(r) for r in db.execute(
            "SELECT * FROM %s WHERE %s ORDER BY id" % (table, where), {"b": self.branch_id})]
            for table, where in BRANCH_ROWS.items()}

    async def check(self, orders, *, dead_letters=()):
        """Stop both processes, then compare their databases. ``orders``:
        {order id: payment id or None} as the till was answered; ``dead_letters``:
        the (table, row id) of the changes the test made the cloud refuse."""
        await self.edge.stop()
        await self.cloud.stop()
        edge, cloud = self.database(self.edge), self.database(self.cloud)
        try:
            at_edge, at_cloud = self.branch_rows(edge), self.branch_rows(cloud)
            for table in BRANCH_ROWS:
                assert at_edge[table] == at_cloud[table], "%s differ" % table
            for db in (edge, cloud):
                self._check_orders(db, orders)
            acked = int(edge.execute("SELECT value FROM sync_state WHERE key = 'acked'")
                        .fetchone()[0])
            cursor = int(edge.execute("SELECT value FROM sync_state WHERE key = 'cursor'")
                         .fetchone()[0])
            last_own = edge.execute("SELECT MAX(seq) FROM change_log WHERE origin = 0"
                                    ).fetchone()[0]
            mark, feed_cursor = cloud.execute(
                "SELECT high_water_mark, feed_cursor FROM sync_nodes WHERE node_id = ?",
                (self.node_id,)).fetchone()
            head = cloud.execute("SELECT MAX(seq) FROM change_log").fetchone()[0]
            assert acked == last_own == mark, (acked, last_own, mark)
            assert cursor == feed_cursor == head, (cursor, feed_cursor, head)
            for db in (edge, cloud):
                parked = [tuple(r) for r in db.execute(
                    "SELECT table_name, row_id, reason FROM dead_letters ORDER BY id")]
                assert [p[:2] for p in parked] == list(dead_letters), parked
        finally:
            edge.close()
            cloud.close()

    def _check_orders(self, db, orders):
        """Every order and payment the till was answered exists once; nothing else."""
        rows = {r["id"]: r for r in db.execute(
            "SELECT id, status, total, amount_paid FROM orders WHERE branch_id = ?",
            (self.branch_id,))}
        assert set(rows) == set(orders), (len(rows), len(orders))
        payments = {}
        for p in db.execute("SELECT id, order_id, amount FROM payments"):
            payments.setdefault(p["order_id"], []).append(p)
        for order_id, payment_id in orders.items():
            order, paid = rows[order_id], payments.get(order_id, [])
            if payment_id is None:
                assert paid == [] and order["amount_paid"] == 0
                continue
            assert [p["id"] for p in paid] == [payment_id], (order_id, len(paid))
            assert paid[0]["amount"] == order["total"] == order["amount_paid"] > 0
            assert order["status"] == "paid"


@pytest.fixture
async def cluster(tmp_path, seeded, cloud_database):
    cluster = Cluster(tmp_path, seeded, cloud_database)
    yield cluster
    await cluster.close()


class Till:
    """Orders and payments on the edge, ``concurrency`` at a time, as tills make them."""

    def __init__(self, cluster, token, seed):
        self.cluster, self.token = cluster, token
        self.rng = random.Random(seed)
        self.items = cluster.plain_items()
        self.orders = {}                 # order id -> payment id (None: unpaid)
        self.keys = itertools.count()

    def _body(self, **extra):
        chosen = self.rng.sample(self.items, self.rng.randint(1, 3))
        return dict({"order_type": "pickup", "items": [
            {"id": item, "quantity": self.rng.randint(1, 3)} for item in chosen]}, **extra)

    async def order(self, pay=True, **extra):
        http, port = self.cluster.http, self.cluster.edge.port
        key = "till-%d" % next(self.keys)
        created = await http.write(port, "POST", "/pos/orders", self._body(**extra),
                                   token=self.token, key=key + "-order", expect=201)
        order = created["order"]
        self.orders[order["id"]] = None
        if pay:
            await self.pay(order, key + "-pay")
        return order

    async def pay(self, order, key):
        paid = await self.cluster.http.write(
            self.cluster.edge.port, "POST", "/pos/orders/%d/pay" % order["id"],
            {"method": "card"}, token=self.token, key=key, expect=200)
        assert paid["amount"] == order["total"] and paid["status"] == "paid", paid
        self.orders[order["id"]] = paid["payment_id"]

    async def stream(self, count, concurrency=10, pause=0.0):
        """``count`` paid orders; each till waits up to ``pause`` s between two."""
        todo = iter(range(count))

        async def worker():
            for _ in todo:
                await self.order()
                await asyncio.sleep(self.rng.uniform(0, pause))
        await asyncio.gather(*[worker() for _ in range(concurrency)])

    @property
    def paid(self):
        return sum(1 for p in self.orders.values() if p is not None)


@pytest.mark.slow
async def test_sync_through_a_proxy_that_drops_delays_duplicates_reorders_and_cuts(cluster):
    waiter = await cluster.start(proxy_seed=20261128)
    # Every kind of fault at least once, then at random.
    cluster.proxy.force("/sync/push", *ACTIONS)
    cluster.proxy.force("/sync/pull", "cut", "drop")
    # The first push carries a change the cloud refuses for good: it is parked
    # once, whatever the network does to that push and to its answer.
    tax = await cluster.edit_at_the_edge_what_only_head_office_may()
    till = Till(cluster, waiter, seed=1)
    # A few unpaid orders that head office cancels at the cloud: the cancel travels
    # down to the edge as a command and its result comes back up, through the proxy.
    unpaid = [(await till.order(pay=False))["id"] for _ in range(10)]

    async def head_office_cancel(order_id, after):
        await asyncio.sleep(after)
        code, answer = await cluster.http.call(
            cluster.cloud.port, "POST", API + "/pos/orders/%d/status" % order_id,
            {"status": "cancelled"}, token=cluster.owner, key="cancel-%d" % order_id)
        assert code in (200, 202), (code, answer)     # 202: sent, not confirmed yet

    await asyncio.gather(till.stream(500, pause=0.5),
                         *[head_office_cancel(order_id, 1.5 * (n + 1))
                           for n, order_id in enumerate(unpaid)])
    proxy = cluster.proxy
    faults = sum(proxy.counts[action] for action in ACTIONS)
    assert faults >= 20 and faults > proxy.counts["forward"] / 2, proxy.counts
    await proxy.set_faults(False)
    await cluster.settle()
    await cluster.check(till.orders, dead_letters=[("taxes", tax)])
    assert cluster.statuses_at_the_edge(unpaid) == {"canceled"}


async def test_a_refusal_whose_answer_was_lost_is_still_parked_at_the_edge(cluster):
    waiter = await cluster.start(proxy_seed=4)
    await cluster.proxy.set_faults(False)
    till = Till(cluster, waiter, seed=4)
    await till.order()
    await cluster.eventually(cluster.pushed, 10, "the first order at the cloud")
    # The push carrying a change the cloud refuses is applied there, but its answer
    # is cut (and the next try lost); the edge sends it again with what it took
    # meanwhile.
    cluster.proxy.force("/sync/push", "cut", "drop")
    tax = await cluster.edit_at_the_edge_what_only_head_office_may()
    deadline = time.monotonic() + 10
    while not cluster.proxy.counts["drop", "/sync/push"]:
        assert time.monotonic() < deadline, "no push"
        await till.order()
    await till.order()          # while the edge waits to try again
    await cluster.settle()
    assert cluster.proxy.counts["cut", "/sync/push"] == 1
    await cluster.check(till.orders, dead_letters=[("taxes", tax)])


@pytest.mark.slow
async def test_kill_9_of_the_edge_and_the_cloud_during_2000_orders(cluster):
    waiter = await cluster.start()
    till = Till(cluster, waiter, seed=2)
    rng = random.Random(9)
    count = 2000
    targets = ["edge", "cloud"] * 4
    rng.shuffle(targets)
    points = sorted(rng.sample(range(100, count - 100), len(targets)))
    stream = asyncio.ensure_future(till.stream(count))
    for point, target in zip(points, targets):
        while len(till.orders) < point and not stream.done():
            await asyncio.sleep(0.01)
        await asyncio.sleep(rng.uniform(0, 0.3))
        await cluster.restart(getattr(cluster, target),
                              pause=rng.uniform(0.2, 2.0) if target == "cloud" else 0)
    await stream
    assert cluster.edge.starts == cluster.cloud.starts == 5
    assert till.paid == count and cluster.http.retries > 0     # kills cut tills off too
    await cluster.settle()
    await cluster.check(till.orders)


def _tomorrow_evening():
    zone = zoneinfo.ZoneInfo("America/New_York")      # the demo's branches
    day = datetime.datetime.now(zone).date() + datetime.timedelta(days=1)
    return "%s 19:00:00" % day.isoformat()


async def test_an_outage_of_the_cloud_then_reconnection(cluster):
    waiter = await cluster.start()
    demo, http = cluster.demo, cluster.http
    tables, salmon = demo["tables"][D], demo["items"][D]["Grilled Salmon"]
    till = Till(cluster, waiter, seed=3)
    dine_in = {"order_type": "Dine In", "actions": ["kot"]}
    for _ in range(5):
        await till.order()
    first_at_t3 = await till.order(pay=False, table_id=tables["T3"], **dine_in)
    await cluster.eventually(cluster.pushed, 10, "the first orders at the cloud")
    await cluster.cloud.stop()

    # Offline: orders and payments; T3's party pays and a new one sits down (the
    # table is freed and locked again); T5 is taken and freed; a reservation.
    for _ in range(40):
        await till.order()
    await till.pay(first_at_t3, "pay-first-at-t3")
    second_at_t3 = await till.order(pay=False, table_id=tables["T3"], **dine_in)
    await till.order(table_id=tables["T5"], **dine_in)
    reservation = await http.write(cluster.edge.port, "POST", "/pos/reservations", {
        "table_id": tables["T8"], "reservation_date_time": _tomorrow_evening(),
        "party_size": 2, "name": "Ada Lovelace", "phone": "+12125550111"},
        token=waiter, key="reservation", expect=201)
    assert (await cluster.edge_status())["outbox_depth"] > 0

    # Head office raises a price at the cloud while it is down.
    path = os.path.join(cluster.cloud.data_dir, "cloud.db")
    store = open_store(path, 1, db=open_database(cluster.database_url, path))
    try:
        store.call(lambda: (
            models.MenuItemPrice.update(final_price=31.5).where(
                models.MenuItemPrice.menu_item == salmon).execute(),
            models.MenuItem.update(price=31.5).where(models.MenuItem.id == salmon).execute()))
    finally:
        store.close()

    cluster.cloud.start()
    await cluster.cloud.ready(http)
    await cluster.settle()

    async def new_price():
        code, item = await http.call(cluster.edge.port, "GET", API + "/pos/items/%d" % salmon,
                                     token=waiter)
        return code == 200 and item["price"] == 31.5
    await cluster.eventually(new_price, 5, "the new price at the edge")
    order = await till.order(items=[{"id": salmon, "quantity": 2}])
    assert order["items"][0]["price"] == 31.5, order["items"]
    await cluster.settle()
    await cluster.check(till.orders)

    for node in (cluster.cloud, cluster.edge):
        db = cluster.database(node)
        try:
            assert db.execute("SELECT party_size FROM reservations WHERE id = ?",
                              (reservation["id"],)).fetchone()[0] == 2
            floor = {r["id"]: r["available_status"] for r in db.execute(
                "SELECT id, available_status FROM tables WHERE id IN (?, ?)",
                (tables["T3"], tables["T5"]))}
            assert floor == {tables["T3"]: "running", tables["T5"]: "available"}, node.role
            assert [tuple(r) for r in db.execute("SELECT table_id FROM table_locks")] == \
                [(tables["T3"],)], node.role
            assert [r[0] for r in db.execute(
                "SELECT id FROM orders WHERE table_id = ? AND status = 'kot'",
                (tables["T3"],))] == [second_at_t3["id"]]
            prices = {r[0] for r in db.execute(
                "SELECT final_price FROM menu_item_prices WHERE menu_item_id = ?", (salmon,))}
            assert prices == {3150}, node.role
        finally:
            db.close()

