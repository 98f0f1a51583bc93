"""Benchmark: sync between a real edge and a real cloud, beside PouchDB, same machine, same run.

    .venv/bin/python tests/bench_sync.py [--changes 50000] [--orders 200] [--prices 50]

Starts a cloud over a freshly seeded SQLite file and enrolls a Downtown edge with
it (``branchline-edge enroll``), each server a process of its own on a free
loopback port, then measures:

- **Catch-up**: ``--changes`` changes queued at the edge while it was not
  running, replicated to the cloud. A change is one change-log entry, i.e. one
  row written: the backlog is pickup orders of a few rows each (the order, its
  lines, taxes and charge), copies of one order made by the domain code, written
  an order at a time straight into the edge's database with its capture
  triggers on. Timed from
  the edge process's start until the cloud's high-water mark for the edge
  reaches the last change's seq (read from the cloud's SQLite file, read-only);
  also from when the edge listened and from the first batch at the cloud
  (most of what comes before is Python importing the edge), with the CPU time
  each process used meanwhile (/proc), which depends less than the rates on
  what else the machine runs. The ratio to PouchDB is taken from when the edge
  listened: PouchDB's clock starts with both of its databases open and the
  remote already reached (a running edge whose link comes back is in the same
  place); the ratio from the edge process's start is printed beside it.
- **Propagation** p50/p99, both running: ``--orders`` orders created one at a
  time over HTTP at the edge, each from its POST until its row is in the cloud's
  database; and ``--prices`` head-office price changes at the cloud (through the
  cloud's Store, as head office's own writes go; the bench adds one route for
  it, since the API has no head-office catalog endpoint yet), each until the
  edge's ``GET /pos/items/{id}`` serves the new price.
- **Through the cloud**: ``--orders`` orders sent to the cloud for the edge's
  branch (a phone on mobile data), each carried out by the edge as a command and
  answered with its answer (cloud -> edge -> answer), p50/p99, beside the same
  order sent to the edge itself in the same run.
- **Baseline**: PouchDB pushing the same number of documents of similar size
  (one of our changes as a JSON document) from an in-memory PouchDB to
  express-pouchdb (memory adapter, its own process), timing
  ``db.replicate.to(remote)`` (tests/bench_node/pouchdb_push.mjs). The npm
  packages are installed into tests/bench_node/node_modules on first run.

After the catch-up the script checks that the cloud holds every order row the
edge wrote, once, and that nothing was refused. Targets (issue 5): catch-up at
least 5x PouchDB's rate; propagation p99 under 1 s. ``--profile DIR`` runs both
servers under cProfile (DIR/edge.prof and DIR/cloud.prof for the event loops,
DIR/edge-db.prof and DIR/cloud-db.prof for the Store's worker threads, where
sync's database work runs). This is a script, not a test: pytest does not
collect it.
"""

import argparse
import json
import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_orders import (ROOT, enroll_edge, free_port, login, open_store, seed_cloud,  # noqa: E402
                          stop, wait_ready)

NODE_DIR = os.path.join(ROOT, "tests", "bench_node")
API = "/api/application-integration"
BRANCH = "Downtown"
ITEM = "Grilled Salmon"

# Each server runs as its own ``main`` does. The cloud gets one route more, doing
# what head office does to a price (test_sync.py does the same through the
# cloud's Store). With a profile path, the event loop and the Store's worker
# thread (where sync's database work runs) are profiled apart: PATH.prof and
# PATH-db.prof.
SERVER = r"""
import cProfile, json, sys
sys.path.insert(0, %(root)r)
import tornado.web
from cloud import server as cloud_server
from edge import server as edge_server
from protocol import models, store

role, profile, argv = sys.argv[1], sys.argv[2], sys.argv[3:]

class HeadOfficePrice(tornado.web.RequestHandler):
    async def post(self):
        body = json.loads(self.request.body)

        def change(item_id, price):
            models.MenuItemPrice.update(final_price=price).where(
                models.MenuItemPrice.menu_item == item_id).execute()
            models.MenuItem.update(price=price).where(models.MenuItem.id == item_id).execute()
        await self.application.settings["node"].store.run(change, body["item_id"], body["price"])
        self.finish("{}")

make_cloud_app = cloud_server.make_cloud_app

def with_price_route(node):
    app = make_cloud_app(node)
    app.add_handlers(r".*", [(r"/bench/price", HeadOfficePrice)])
    return app

cloud_server.make_cloud_app = with_price_route
profiles = {"": cProfile.Profile(), "-db": cProfile.Profile()}
work = store.Store._work

def profiled_work(store):
    profiles["-db"].enable()
    try:
        work(store)
    finally:
        profiles["-db"].disable()

if profile:
    store.Store._work = profiled_work
    profiles[""].enable()
(cloud_server if role == "cloud" else edge_server).main(argv)
if profile:
    profiles[""].disable()
    for suffix, prof in profiles.items():
        prof.dump_stats(profile + suffix + ".prof")
"""


# --- Setting up: a seeded cloud, an enrolled edge, a backlog -------------------------

def write_backlog(branch_id, item_ids, total):
    """Write rows at the edge as its own writes (capture triggers on) until it has
    ``total`` changes: one pickup order made by the domain code, then copies of
    its rows with new ids and numbers. Answers (changes, last seq, rows per order)."""
    from protocol import accounts, ids, models, orders
    from protocol.clock import Clock
    from protocol.handlers.orders import OrderBody
    from sync.models import ChangeLog

    own = ChangeLog.select().where(ChangeLog.origin == 0)
    now = Clock().now()
    waiter = models.User.get(models.User.email == "waiter@demo.test")
    actor = accounts.actor_for(waiter, branch_id)
    made = orders.create_order(actor, OrderBody(
        order_type="pickup", note="bench",
        items=[{"id": i, "quantity": 2, "note": "no lemon"} for i in item_ids]), now)
    order = models.Order.get_by_id(made["order"]["id"])
    children = list(order.items) + list(order.taxes) + list(order.charges)
    remaining, number = total - own.count(), order.order_number
    while remaining > 0:
        number += 1
        copy = models.Order(**dict(order.__data__, id=ids.new_id(), uuid=None,
                                   order_number=number, formatted_order_number="#%d" % number))
        rows = [copy] + [type(c)(**dict(c.__data__, id=ids.new_id(), order=copy.id))
                         for c in children]
        for row in rows[:remaining]:
            models.insert_all([row])
        remaining -= len(rows)
    last = ChangeLog.select(ChangeLog.seq).order_by(ChangeLog.seq.desc()).limit(1).scalar()
    return own.count(), last, 1 + len(children)


def wire_bytes_per_change():
    """The average size of a queued change as the edge will send it."""
    from protocol import wire
    from sync import outbox
    size = count = 0
    batch = outbox.next_batch()
    while batch is not None:
        size += len(wire.dumps_bytes(batch["changes"]))
        count += len(batch["changes"])
        batch = outbox.next_batch(batch["upto"])
    return size / count


def make_backlog(data_dir, node_id, branch_id, item_ids, changes):
    """{changes, last_seq, rows_per_order, bytes_per_change, seconds}: one
    transaction per 20,000 rows."""
    _, store = open_store("edge", data_dir, node_id, triggers=True)
    try:
        started = time.perf_counter()
        done = 0
        while done < changes:
            done, last, per_order = store.call(write_backlog, branch_id, item_ids,
                                               min(changes, done + 20000))
        return {"changes": done, "last_seq": last, "rows_per_order": per_order,
                "seconds": time.perf_counter() - started,
                "bytes_per_change": store.call(wire_bytes_per_change)}
    finally:
        store.close()


# --- Reading the cloud's file, read-only ------------------------------------------

class ReadOnly:
    """A node's SQLite file, read-only, from this process."""

    ORDER_TABLES = ("orders", "order_items", "order_taxes", "order_charges")

    def __init__(self, path):
        self.db = sqlite3.connect("file:%s?mode=ro" % path, uri=True, isolation_level=None)

    def value(self, sql, *args):
        row = self.db.execute(sql, args).fetchone()
        return row[0] if row else None

    def high_water_mark(self, node_id):
        return self.value("SELECT high_water_mark FROM sync_nodes WHERE node_id = ?",
                          node_id) or 0

    def has_order(self, order_id):
        return self.value("SELECT 1 FROM orders WHERE id = ?", order_id)

    def order_rows(self):
        return {t: self.value("SELECT COUNT(*) FROM %s" % t) for t in self.ORDER_TABLES}


def call(url, body=None, token=None):
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    req = urllib.request.Request(url, data=json.dumps(body).encode() if body is not None
                                 else None, headers=headers)
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.load(resp)


# --- The measurements ---------------------------------------------------------------

def cpu_seconds(proc):
    """CPU time (user and system) a process has used so far (Linux /proc)."""
    with open("/proc/%d/stat" % proc.pid) as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def catch_up(edge_cmd, cloud, node_id, last_seq, procs, timeout):
    """Start the edge; answers {seconds: until the cloud has last_seq, ready: until
    the edge listened, first: until the cloud had a first batch, edge_cpu and
    cloud_cpu: CPU seconds each process used meanwhile}."""
    ready = {}
    cloud_cpu = cpu_seconds(procs[0])
    started = time.perf_counter()
    edge = subprocess.Popen(edge_cmd, cwd=ROOT, stdout=subprocess.DEVNULL)
    procs.append(edge)

    def watch_ready():
        answering(int(edge_cmd[edge_cmd.index("--port") + 1]), edge, timeout)
        ready["at"] = time.perf_counter() - started
    threading.Thread(target=watch_ready, daemon=True).start()
    while True:
        mark = cloud.high_water_mark(node_id)
        if mark and "first" not in ready:
            ready["first"] = time.perf_counter() - started
        if mark >= last_seq:
            break
        if edge.poll() is not None:
            raise SystemExit("the edge exited with %s" % edge.returncode)
        if time.perf_counter() - started > timeout:
            raise SystemExit("the cloud has %d of %d changes after %d s" % (
                cloud.high_water_mark(node_id), last_seq, timeout))
        time.sleep(0.005)
    return {"seconds": time.perf_counter() - started, "ready": ready.get("at"),
            "first": ready.get("first"), "edge_cpu": cpu_seconds(edge),
            "cloud_cpu": cpu_seconds(procs[0]) - cloud_cpu}


def answering(port, proc, timeout):
    """Wait until the server at ``port`` listens (a TCP connection, nothing asked:
    wait_ready's OpenAPI document is built on the edge's event loop for each
    request, a second or more under load, while it pushes)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit("server exited with %s" % proc.returncode)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.02)
    raise SystemExit("server on port %d did not start" % port)


def order_latencies(edge_url, token, cloud, item_id, count):
    seconds = []
    for n in range(count):
        started = time.perf_counter()
        made = call(edge_url + API + "/pos/orders", {
            "order_type": "pickup", "items": [{"id": item_id, "quantity": 1 + n % 3}]}, token)
        order_id = made["order"]["id"]
        while not cloud.has_order(order_id):
            if time.perf_counter() - started > 30:
                raise SystemExit("order %d did not reach the cloud in 30 s" % order_id)
            time.sleep(0.001)
        seconds.append(time.perf_counter() - started)
    return seconds


def command_latencies(base_url, token, item_id, count):
    """Seconds of each order POSTed to base_url (the cloud: carried out by the edge)."""
    seconds = []
    for n in range(count):
        started = time.perf_counter()
        made = call(base_url + API + "/pos/orders", {
            "order_type": "pickup", "items": [{"id": item_id, "quantity": 1 + n % 3}]}, token)
        if not made.get("order", {}).get("id"):
            raise SystemExit("an order through %s was not made: %s" % (base_url, made))
        seconds.append(time.perf_counter() - started)
    return seconds


def price_latencies(cloud_url, edge_url, token, item_id, count):
    seconds = []
    for n in range(count):
        price = round(20 + (n + 1) * 0.25, 2)
        started = time.perf_counter()
        call(cloud_url + "/bench/price", {"item_id": item_id, "price": price})
        while round(call(edge_url + API + "/pos/items/%d" % item_id,
                         token=token)["price"], 2) != price:
            if time.perf_counter() - started > 30:
                raise SystemExit("price %s did not reach the edge in 30 s" % price)
            time.sleep(0.002)
        seconds.append(time.perf_counter() - started)
    return seconds


def percentiles(seconds):
    ordered = sorted(seconds)
    return (statistics.median(ordered) * 1000,
            ordered[max(0, int(len(ordered) * 0.99) - 1)] * 1000)


def pouchdb_push(docs, batch_size):
    if not os.path.isdir(os.path.join(NODE_DIR, "node_modules", "express-pouchdb")):
        print("installing pouchdb, pouchdb-adapter-memory, express-pouchdb, express@4 into "
              "%s/node_modules ..." % os.path.relpath(NODE_DIR, ROOT), flush=True)
        subprocess.run(["npm", "ci", "--prefix", NODE_DIR, "--no-audit", "--no-fund",
                        "--loglevel", "error"], check=True, stdout=subprocess.DEVNULL)
    done = subprocess.run(["node", "pouchdb_push.mjs", "--docs", str(docs),
                           "--batch-size", str(batch_size)],
                          cwd=NODE_DIR, capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise SystemExit("the PouchDB run failed: %s" % done.stderr)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if result["at_remote"] != docs:
        raise SystemExit("PouchDB's remote holds %s of %d docs" % (result["at_remote"], docs))
    return result


def run_branchline(args, tmp, procs):
    """Seed, enroll, queue the backlog, time the catch-up, then the propagation."""
    cloud_dir, edge_dir = os.path.join(tmp, "cloud"), os.path.join(tmp, "edge")
    cloud_db, summary, code = seed_cloud(cloud_dir)
    wrapper = os.path.join(tmp, "server.py")
    with open(wrapper, "w") as fh:
        fh.write(SERVER % {"root": ROOT})

    def server_cmd(role, data_dir, port):
        profile = os.path.join(os.path.abspath(args.profile), role) if args.profile else ""
        return [sys.executable, wrapper, role, profile, "--data-dir", data_dir,
                "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
                *(["--plain-http", "true"] if role == "edge" else [])]

    if args.profile:
        os.makedirs(args.profile, exist_ok=True)
    cloud_port, edge_port = free_port(), free_port()
    cloud_url, edge_url = "http://127.0.0.1:%d" % cloud_port, "http://127.0.0.1:%d" % edge_port
    procs.append(subprocess.Popen(server_cmd("cloud", cloud_dir, cloud_port) + ["--node-id", "1"],
                                  cwd=ROOT, stdout=subprocess.DEVNULL))
    wait_ready(cloud_port, procs[-1])
    node_id = enroll_edge(cloud_url, code, edge_dir)["node_id"]

    items = summary["items"][BRANCH]
    backlog = make_backlog(edge_dir, node_id, summary["branches"][BRANCH],
                           [items[ITEM], items["Garlic Bread"]], args.changes)
    print("queued %d changes at the edge (pickup orders of %d rows, %.0f bytes a change on "
          "the wire) in %.1f s" % (backlog["changes"], backlog["rows_per_order"],
                                   backlog["bytes_per_change"], backlog["seconds"]), flush=True)

    cloud = ReadOnly(cloud_db)
    edge = ReadOnly(os.path.join(edge_dir, "edge.db"))
    timed = catch_up(server_cmd("edge", edge_dir, edge_port), cloud, node_id,
                     backlog["last_seq"], procs, timeout=max(120, args.changes / 100))
    result = dict(backlog, catch_up=timed.pop("seconds"), **timed, complete=(
        cloud.order_rows() == edge.order_rows()
        and not cloud.value("SELECT COUNT(*) FROM dead_letters")))

    waiter = login(edge_port, "waiter@demo.test")
    result["orders"] = order_latencies(edge_url, waiter, cloud, items["Espresso"], args.orders)
    result["prices"] = price_latencies(cloud_url, edge_url, waiter, items[ITEM], args.prices)
    at_cloud = login(cloud_port, "waiter@demo.test")
    result["via_cloud"] = command_latencies(cloud_url, at_cloud, items["Espresso"], args.orders)
    result["at_edge"] = command_latencies(edge_url, waiter, items["Espresso"], args.orders)
    return result


def report(ours, pouch):
    rate = ours["changes"] / ours["catch_up"]
    print()
    print("catch-up: %d changes queued at the edge (one change = one row written), "
          "edge -> cloud" % ours["changes"])
    print("  %-28s %7.0f changes/s  %6.2f s from the edge's start" % (
        "branchline", rate, ours["catch_up"]))
    if ours["ready"] and ours["catch_up"] > ours["ready"]:
        print("  %-28s %7.0f changes/s  %6.2f s from when it listened (%.2f s after "
              "its start)" % ("", ours["changes"] / (ours["catch_up"] - ours["ready"]),
                              ours["catch_up"] - ours["ready"], ours["ready"]))
    if ours["first"] and ours["catch_up"] > ours["first"]:
        print("  %-28s %7.0f changes/s  %6.2f s from the first batch at the cloud (%.2f s "
              "after its start)" % ("", ours["changes"] / (ours["catch_up"] - ours["first"]),
                                    ours["catch_up"] - ours["first"], ours["first"]))
    print("  %-28s CPU: edge %.2f s (from its start), cloud %.2f s: %.0f + %.0f us a change"
          % ("", ours["edge_cpu"], ours["cloud_cpu"], ours["edge_cpu"] / ours["changes"] * 1e6,
             ours["cloud_cpu"] / ours["changes"] * 1e6))
    print("  %-28s %7.0f docs/s     %6.2f s (replicate.to, batch_size %d, %d-byte docs)" % (
        "pouchdb -> express-pouchdb", pouch["docs_per_second"], pouch["seconds"],
        pouch["batch_size"], pouch["doc_bytes"]))
    listening = ours["changes"] / (ours["catch_up"] - ours["ready"]) if ours["ready"] else rate
    print("  branchline / pouchdb: %.1fx from when the edge listened (target >= 5x), %.1fx from "
          "its process's start; the cloud holds every row once, none refused: %s"
          % (listening / pouch["docs_per_second"], rate / pouch["docs_per_second"],
             "yes" if ours["complete"] else "NO"))
    for label, seconds, what in (
            ("order, edge -> cloud", ours["orders"], "orders, from the POST until the "
                                                     "cloud has the row"),
            ("price, cloud -> edge", ours["prices"], "head-office price changes, until "
                                                     "the edge serves it")):
        if seconds:
            print("propagation %-20s p50 %6.1f ms  p99 %6.1f ms  (%d %s; target p99 < 100 ms)"
                  % ((label,) + percentiles(seconds) + (len(seconds), what)))
    if ours["via_cloud"]:
        print("order through the cloud (cloud -> edge -> answer)  p50 %6.1f ms  p99 %6.1f ms  "
              "(%d orders, one at a time)" % (percentiles(ours["via_cloud"])
                                              + (len(ours["via_cloud"]),)))
        print("  baseline: the same order at the edge       p50 %6.1f ms  p99 %6.1f ms"
              % percentiles(ours["at_edge"]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--changes", type=int, default=50000,
                        help="changes queued at the edge for the catch-up (default 50000)")
    parser.add_argument("--orders", type=int, default=200,
                        help="orders for the edge -> cloud latency (default 200)")
    parser.add_argument("--prices", type=int, default=50,
                        help="head-office price changes for the cloud -> edge latency")
    parser.add_argument("--pouch-batch-size", type=int, default=100,
                        help="PouchDB's replication batch_size (default 100, its own default)")
    parser.add_argument("--profile", metavar="DIR",
                        help="run both servers under cProfile: DIR/edge.prof, DIR/cloud.prof "
                             "(event loops), DIR/edge-db.prof, DIR/cloud-db.prof (Store threads)")
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="branchline-bench-sync-")
    procs = []
    try:
        ours = run_branchline(args, tmp, procs)
        stop(procs)
        print("running PouchDB -> express-pouchdb with %d docs ..." % ours["changes"], flush=True)
        report(ours, pouchdb_push(ours["changes"], args.pouch_batch_size))
    finally:
        stop(procs)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
