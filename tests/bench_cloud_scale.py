"""Benchmark: 50 edges catching up at once into the cloud, on SQLite and on
PostgreSQL with 1 and 2 cloud processes, same machine, same run.

    .venv/bin/python tests/bench_cloud_scale.py [--edges 50] [--changes 2000] [--batch 500]

For each configuration a cloud is seeded afresh (the demo restaurant plus one
branch per edge, each enrolled to a simulated edge with its own Ed25519 key,
written as enrollment writes it: enrolling over HTTP is limited to 10 a minute),
and started as ``python -m cloud`` (``--database-url`` and ``--workers`` for
PostgreSQL, on a new database of the server at BRANCHLINE_TEST_POSTGRES, dropped
after). Each edge then pushes
``--changes`` changes of its branch (notification rows, one change each) in
signed batches of ``--batch``, one batch in flight per edge as a real edge
sends them, all edges at once. Printed: changes/s over the whole catch-up, the
p50/p99 time of one batch, and a check that the cloud holds every row once.
This is a script, not a test: pytest does not collect it.
"""

import argparse
import asyncio
import datetime
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_orders import ROOT, free_port, stop, wait_ready  # noqa: E402

sys.path.insert(0, ROOT)
import tornado.httpclient  # noqa: E402

import pgserver  # noqa: E402
from cloud import demo_data  # noqa: E402
from protocol import config, ed25519, models  # noqa: E402
from protocol.clock import Clock  # noqa: E402
from protocol.node import data_paths  # noqa: E402
from protocol.postgres_pool import open_database  # noqa: E402
from sync import auth  # noqa: E402
from sync.models import SyncNode  # noqa: E402
from sync.startup import open_store  # noqa: E402

API = "/api/application-integration"


class Edge:
    def __init__(self, http, port, node_id, branch_id, owner):
        self.http, self.port = http, port
        self.node_id, self.branch_id, self.owner = node_id, branch_id, owner
        self.key = ed25519.generate()
        self.batch_seconds = []

    @property
    def public_pem(self):
        return ed25519.public_pem(self.key).decode()

    def changes(self, count):
        now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None).isoformat()
        base = self.node_id << 40
        return [{"seq": n, "table": "notifications", "id": base + n, "op": "upsert", "row": {
            "id": base + n, "created_at": now, "updated_at": now, "user_id": self.owner,
            "branch_id": self.branch_id, "type": "bench", "title": "Change %d" % n,
            "body": "caught up after an outage", "data": "{}", "read_at": None}}
            for n in range(1, count + 1)]

    async def catch_up(self, changes, batch):
        path = "/sync/push"
        for start in range(0, len(changes), batch):
            part = changes[start:start + batch]
            body = json.dumps({"after": start, "upto": start + len(part),
                               "changes": part}).encode()
            headers = dict(auth.sign(self.key, self.node_id, "POST", path, body,
                                     now=time.time()), **{"Content-Type": "application/json"})
            began = time.perf_counter()
            resp = await self.http.fetch("http://127.0.0.1:%d%s" % (self.port, path),
                                         method="POST", body=body, headers=headers,
                                         request_timeout=300, raise_error=False)
            if resp.code != 200 or json.loads(resp.body)["rejected"]:
                raise SystemExit("push refused: %s %s" % (resp.code, resp.body[:300]))
            self.batch_seconds.append(time.perf_counter() - began)


def seed(data_dir, database_url, count):
    """The simulated edges of a freshly seeded cloud (not yet given an http client)."""
    settings = config.load("cloud", {"data_dir": data_dir}, environ={})
    path = data_paths(settings)["database"]
    store = open_store(path, 1, db=open_database(database_url, path))
    try:
        summary = store.call(demo_data.seed, password_hash="-")
        owner = summary["users"]["owner@demo.test"]
        edges = [Edge(None, None, 2 + n, None, owner) for n in range(count)]

        def enroll():
            now = Clock().now()
            for n, edge in enumerate(edges):
                edge.branch_id = models.Branch.create(
                    restaurant=summary["restaurant_id"], name="Bench %d" % n, timezone="UTC",
                    edge_node_id=edge.node_id).id
                SyncNode.create(node_id=edge.node_id, branch_id=edge.branch_id, name="bench",
                                public_key=edge.public_pem, enrolled_at=now)
        store.call(enroll)
    finally:
        store.close()
    return edges

async def run(label, args, database_url, workers):
    tmp = tempfile.mkdtemp(prefix="branchline-scale-")
    cloud = None
    try:
        edges = seed(tmp, database_url, args.edges)
        port = free_port()
        extra = ["--database-url", database_url, "--workers", str(workers)] if database_url \
            else []
        cloud = subprocess.Popen([sys.executable, "-m", "cloud", "--data-dir", tmp, "--port",
                                  str(port), "--host", "127.0.0.1", "--log-level", "warning",
                                  *extra], cwd=ROOT)
        wait_ready(port, cloud, timeout=60)
        http = tornado.httpclient.AsyncHTTPClient(force_instance=True, max_clients=args.edges)
        for edge in edges:
            edge.http, edge.port = http, port
        backlog = [edge.changes(args.changes) for edge in edges]
        began = time.perf_counter()
        await asyncio.gather(*[edge.catch_up(changes, args.batch)
                               for edge, changes in zip(edges, backlog)])
        took = time.perf_counter() - began
        http.close()
        batches = sorted(s for edge in edges for s in edge.batch_seconds)
        stop([cloud])
        held = count_rows(tmp, database_url)
        total = args.edges * args.changes
        print("%-32s %8.0f changes/s  batch p50 %6.0f ms  p99 %6.0f ms  (%d rows, %s)" % (
            label, total / took, 1000 * statistics.median(batches),
            1000 * batches[int(0.99 * (len(batches) - 1))], held,
            "all there" if held == total else "MISSING %d" % (total - held)), flush=True)
    finally:
        if cloud is not None:
            stop([cloud])
        shutil.rmtree(tmp, ignore_errors=True)


def count_rows(data_dir, database_url):
    settings = config.load("cloud", {"data_dir": data_dir}, environ={})
    path = data_paths(settings)["database"]
    store = open_store(path, 1, db=open_database(database_url, path))
    try:
        return store.call(lambda: models.Notification.select().where(
            models.Notification.type == "bench").count())
    finally:
        store.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--edges", type=int, default=50)
    parser.add_argument("--changes", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--only", choices=["sqlite", "postgres"], default=None)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    print("%d edges x %d changes, batches of %d, all at once:" % (args.edges, args.changes,
                                                                 args.batch))
    if args.only != "postgres":
        asyncio.run(run("SQLite, 1 process", args, "", 1))
    if args.only == "sqlite":
        return
    server = pgserver.PostgresServer()
    try:
        for workers in (1, 2):
            asyncio.run(run("PostgreSQL, %d process%s" % (workers, "es" * (workers > 1)),
                            args, server.create(), workers))
    finally:
        server.drop_all()


if __name__ == "__main__":
    main()
