"""Benchmark: order creation on an edge against a bare Tornado handler, same machine, same run.

    .venv/bin/python tests/bench_orders.py [--requests 3000] [--concurrency 50]

Starts its servers as separate processes on free loopback ports: a bare Tornado
handler that parses the same JSON body and answers a small JSON object (the
baseline), and a real edge (SQLite, WAL, synchronous=FULL) enrolled with a cloud
seeded with the demo restaurant, so the edge's sync loops push every order and its
hub publishes each while it is measured (``--standalone``: an edge over a seeded
file, alone, as earlier rounds measured). One load process drives each in turn with the same
keep-alive HTTP/1.1 client: ``--concurrency`` connections sending
``POST /pos/orders`` (a pickup order of two items, priced by the server).
Prints throughput and p50/p99 latency of both, and the ratio. Targets
(DESIGN.md): at least half the baseline's throughput, p99 under 50 ms.
This is a script, not a test: pytest does not collect it.
"""

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

BARE_SERVER = r"""
import json, sys
import tornado.ioloop, tornado.web

class Bare(tornado.web.RequestHandler):
    def post(self):
        body = json.loads(self.request.body)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"success": True, "items": len(body["items"])}))

    def get(self):
        self.finish("{}")

app = tornado.web.Application([(r"/api/application-integration/pos/orders", Bare),
                               (r"/api/application-integration/openapi.json", Bare)])
app.listen(int(sys.argv[1]), "127.0.0.1")
tornado.ioloop.IOLoop.current().start()
"""


TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid, tid=None):
    """CPU time (user + system) of a process, or of one of its threads, from /proc."""
    path = "/proc/%d/stat" % pid if tid is None else "/proc/%d/task/%d/stat" % (pid, tid)
    with open(path) as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS       # utime + stime


def thread_cpu(pid):
    """{thread id: CPU seconds so far} of a process's threads (its main thread's id is
    the process's)."""
    seconds = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            seconds[int(tid)] = cpu_seconds(pid, int(tid))
        except OSError:
            pass                   # the thread ended meanwhile
    return seconds


def where_time_went(pid, before, after, elapsed, cloud=None):
    """A line saying how the edge's CPU over the run split between its event loop (the
    main thread) and its store's writer (the busiest other thread), as % of a core."""
    spent = {tid: after[tid] - before.get(tid, 0.0) for tid in after}
    loop = spent.pop(pid, 0.0)
    writer = max(spent.values(), default=0.0)
    rest = sum(spent.values()) - writer
    line = ("where the edge's time went: %.0f %% of a core in all; its event loop (HTTP, "
            "tokens, validation, answers, realtime) %.0f %%, the store's writer thread (the "
            "orders' SQL and capture triggers, building rows, the sync loops' reads) %.0f %%, "
            "other threads %.0f %%" % tuple(100 * x / elapsed for x in (
                loop + writer + rest, loop, writer, rest)))
    if cloud is not None:
        line += "; the cloud, taking what the edge pushed: %.0f %%" % (100 * cloud / elapsed)
    return line


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(port, proc, timeout=30):
    deadline = time.time() + timeout
    url = "http://127.0.0.1:%d/api/application-integration/openapi.json" % port
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit("server exited with %s" % proc.returncode)
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("server on port %d did not start" % port)


def stop(procs):
    """Terminate the servers a benchmark started (kill those that do not stop)."""
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def open_store(role, data_dir, node_id, triggers=False):
    from protocol import config
    from protocol.database import open_sqlite
    from protocol.node import data_paths
    from protocol.store import Store
    from sync import capture, startup
    settings = config.load(role, {"data_dir": data_dir}, environ={})
    path = data_paths(settings)["database"]
    return path, Store(open_sqlite(path), node_id=node_id).open(
        startup.SCHEMA, [capture.install_triggers] if triggers else [])


def seed_cloud(data_dir, branch="Downtown"):
    """(database path, demo summary, a one-time enrollment code for branch)."""
    from cloud import demo_data
    from protocol.clock import Clock
    from sync import enrollment
    path, store = open_store("cloud", data_dir, 1)
    try:
        summary = store.call(demo_data.seed)
    finally:
        store.close()
    _, store = open_store("cloud", data_dir, 1, triggers=True)
    try:
        code = store.call(enrollment.create_code, summary["branches"][branch], Clock().now())
    finally:
        store.close()
    return path, summary, code


def enroll_edge(cloud_url, code, data_dir):
    done = subprocess.run([sys.executable, "-m", "edge", "enroll", "--cloud-url", cloud_url,
                           "--code", code, "--data-dir", data_dir, "--name", "bench-edge"],
                          cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit("enroll failed: %s" % (done.stderr or done.stdout))
    with open(os.path.join(data_dir, "enrollment.json")) as fh:
        return json.load(fh)


def seed_edge(data_dir):
    from cloud import demo_data
    from protocol import config
    from protocol.database import open_sqlite
    from protocol.node import data_paths
    from protocol.store import Store
    from sync.startup import SCHEMA
    settings = config.load("edge", {"data_dir": data_dir}, environ={})
    path = data_paths(settings)["database"]
    store = Store(open_sqlite(path), node_id=1).open(SCHEMA)
    try:
        summary = store.call(demo_data.seed)
    finally:
        store.close()
    return summary


def login(port, email):
    req = urllib.request.Request(
        "http://127.0.0.1:%d/api/application-integration/auth/login" % port,
        data=json.dumps({"email": email, "password": "demo12345"}).encode(),
        headers={"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(req))["data"]["access_token"]


async def _client(port, request_bytes, count, latencies, errors):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for _ in range(count):
            started = time.perf_counter()
            writer.write(request_bytes)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            if status >= 300:
                errors.append(status)
    finally:
        writer.close()


async def drive(port, token, body, requests, concurrency):
    payload = json.dumps(body).encode()
    request_bytes = (
        "POST /api/application-integration/pos/orders HTTP/1.1\r\n"
        "Host: 127.0.0.1:%d\r\nAuthorization: Bearer %s\r\n"
        "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
        % (port, token, len(payload))).encode() + payload
    latencies, errors = [], []
    per_client = requests // concurrency
    started = time.perf_counter()
    await asyncio.gather(*[_client(port, request_bytes, per_client, latencies, errors)
                           for _ in range(concurrency)])
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(latencies), "errors": len(errors), "seconds": elapsed,
        "rps": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
    }


def report(name, r):
    print("%-22s %8.0f req/s   p50 %6.1f ms   p99 %6.1f ms   (%d requests, %d errors)"
          % (name, r["rps"], r["p50_ms"], r["p99_ms"], r["requests"], r["errors"]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--standalone", action="store_true",
                        help="an edge alone, not enrolled with a cloud (no sync while it measures)")
    parser.add_argument("--profile", metavar="FILE",
                        help="run the edge under cProfile and write its stats to FILE")
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="branchline-bench-")
    procs = []
    try:
        bare_port, edge_port = free_port(), free_port()
        bare = subprocess.Popen([sys.executable, "-c", BARE_SERVER, str(bare_port)])
        procs.append(bare)
        profile = ["-m", "cProfile", "-o", args.profile] if args.profile else []
        edge_args = ["--host", "127.0.0.1", "--port", str(edge_port), "--log-level", "warning",
                     "--plain-http", "true"]
        if args.standalone:
            summary = seed_edge(tmp)
            edge_dir = tmp
            edge_args += ["--node-id", "2", "--branch-id", str(summary["branches"]["Downtown"])]
        else:
            # enrolled with a cloud, as a branch's box runs: its sync loops push every
            # order to the cloud and its hub publishes each one while it measures
            cloud_dir, edge_dir = os.path.join(tmp, "cloud"), os.path.join(tmp, "edge")
            _, summary, code = seed_cloud(cloud_dir)
            cloud_port = free_port()
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "cloud", "--data-dir", cloud_dir, "--host", "127.0.0.1",
                 "--port", str(cloud_port), "--node-id", "1", "--log-level", "warning"],
                cwd=ROOT, stdout=subprocess.DEVNULL))
            wait_ready(cloud_port, procs[-1])
            enroll_edge("http://127.0.0.1:%d" % cloud_port, code, edge_dir)
        items = summary["items"]["Downtown"]
        body = {"order_type": "pickup", "customer": {"name": "Bench", "phone": "5550100"},
                "items": [{"id": items["Garlic Bread"], "quantity": 2},
                          {"id": items["Espresso"], "quantity": 1, "note": "hot"}]}
        edge = subprocess.Popen([sys.executable] + profile + ["-m", "edge", "--data-dir", edge_dir]
                                + edge_args, cwd=ROOT, stdout=subprocess.DEVNULL)
        procs.append(edge)
        wait_ready(bare_port, bare)
        wait_ready(edge_port, edge)
        token = login(edge_port, "waiter@demo.test")

        warm = max(args.concurrency, args.requests // 10)
        asyncio.run(drive(bare_port, token, body, warm, args.concurrency))
        asyncio.run(drive(edge_port, token, body, warm, args.concurrency))
        baseline = asyncio.run(drive(bare_port, token, body, args.requests, args.concurrency))
        cloud = None if args.standalone else procs[1].pid
        threads_before = thread_cpu(edge.pid)
        cloud_before = cloud and cpu_seconds(cloud)
        result = asyncio.run(drive(edge_port, token, body, args.requests, args.concurrency))
        split = where_time_went(edge.pid, threads_before, thread_cpu(edge.pid),
                                result["seconds"], cloud and cpu_seconds(cloud) - cloud_before)

        print("order creation, %d concurrent clients, %d requests each run, the edge %s"
              % (args.concurrency, args.requests,
                 "alone" if args.standalone else "enrolled and syncing with a cloud"))
        report("bare tornado (baseline)", baseline)
        report("branchline edge", result)
        ratio = result["rps"] / baseline["rps"]
        print("edge / baseline throughput: %.2f (target >= 0.50); edge p99 %.1f ms "
              "(target < 50 ms)" % (ratio, result["p99_ms"]))
        print(split)
    finally:
        stop(procs)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
