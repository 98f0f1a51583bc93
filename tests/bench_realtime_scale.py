"""Benchmark: 10,000 WebSocket clients over two cloud processes sharing Redis, against
one process alone, same run.

    .venv/bin/python tests/bench_realtime_scale.py [--clients 10000] [--rate 5] [--steady 100]

Starts clouds as separate processes (``python -m cloud``) over one fresh PostgreSQL
database (the server at BRANCHLINE_TEST_POSTGRES, dropped after), one data directory
(one app key) and, for the scaled run, the Redis at BRANCHLINE_REDIS_URL (keys under
the run's own app id, deleted after):

- baseline: one process, no Redis, every client on it;
- scaled: two processes on two ports with ``--redis-url``, half the clients on each
  (as a load balancer spreads them), broadcasts published on the first.

This process is the load, with tests/bench_realtime.py's clients (raw asyncio, no
library): ``--clients`` of them, all subscribed to the channel ``bench``; a publisher
posts events through Pusher's signed HTTP API at ``--rate`` a second. On two cores,
reading 10,000 frames a broadcast in Python costs this process more CPU than the
servers spend writing them, and the servers then wait for a core: so only ``--readers``
clients, spread evenly over the processes and over the order in which a server writes
to its subscribers, read and time each frame as it arrives; the others' frames wait in
their sockets (the kernel keeps them: the server has written them) and are read and
counted at the end. ``--readers 10000`` makes every client read and time each frame.
Printed for each:
delivery latency p50/p99/max from the publish request to each client's receipt
(target: p99 under 100 ms; p99 of each process's clients too), the servers' CPU time
per broadcast, deliveries lost, and the servers' resident memory. Every
process raises its open-files limit. This is a script, not a test: pytest does not
collect it.
"""

import argparse
import asyncio
import gc
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_orders import ROOT, free_port, stop, wait_ready  # noqa: E402
from bench_realtime import (RAISE_FD_LIMIT, Arrivals, Publisher, connect_all,  # noqa: E402
                            cpu_seconds, event_body, pusher_signer, raise_fd_limit, rss_mb)

import pgserver  # noqa: E402
from test_realtime_scale import forget  # noqa: E402

REDIS_URL = os.environ.get("BRANCHLINE_REDIS_URL", "redis://127.0.0.1:6379/0")

CLOUD_SERVER = RAISE_FD_LIMIT + """
import sys
from cloud.server import main
main(sys.argv[1:])
"""


def start_cloud(data_dir, database_url, port, clients, redis_url=""):
    args = [sys.executable, "-c", CLOUD_SERVER, "--data-dir", data_dir, "--host", "127.0.0.1",
            "--port", str(port), "--database-url", database_url, "--log-level", "warning",
            "--max-connections", str(clients + 100)]
    if redis_url:
        args += ["--redis-url", redis_url]
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL)
    wait_ready(port, proc)
    return proc


async def measure(name, procs, ports, creds, args):
    """Clients spread evenly over ports, events published on the first port; the
    ``--readers`` (spread evenly too) read as frames come and time them, the others
    read theirs at the end; every frame is counted."""
    readers = [Arrivals() for _ in ports]           # per process
    others = [Arrivals() for _ in ports]
    path = "/app/%s?protocol=7" % creds["key"]
    clients, reading = [], []
    for i, port in enumerate(ports):
        share = args.clients // len(ports) + (1 if i < args.clients % len(ports) else 0)
        sample = round(share * args.readers / args.clients)
        clients += await connect_all(port, path, sample, readers[i])
        reading += clients[-sample:] if sample else []
        clients += await connect_all(port, path, share - sample, others[i])
    everyone = readers + others
    random.Random(7).shuffle(clients)       # the readers spread over the fan-out's order
    for client in clients:
        client.send(json.dumps({"event": "pusher:subscribe", "data": {"channel": "bench"}}))
    deadline = time.time() + 60
    while sum(a.subscribed for a in everyone) < args.clients and time.time() < deadline:
        await asyncio.sleep(0.05)
    if sum(a.subscribed for a in everyone) < args.clients:
        raise SystemExit("%s: only %d subscribed" % (name, sum(a.subscribed for a in everyone)))
    await asyncio.sleep(0.5)
    rss = [rss_mb(proc.pid) for proc in procs]
    waiting = [c for c in clients if c not in set(reading)]
    for client in waiting:
        client.transport.pause_reading()     # the kernel keeps what comes (~40 KB each)
    publisher = await Publisher(ports[0], "/apps/%s/events" % creds["app_id"], pusher_signer(
        creds["app_id"], creds["key"], creds["secret"])).open()

    async def settle(group, count, timeout=30):
        deadline = time.time() + timeout
        while sum(len(a.times) for a in group) < count and time.time() < deadline:
            await asyncio.sleep(0.02)
        return sum(len(a.times) for a in group)

    n = 0
    for _ in range(10):                 # warm-up
        await publisher.post(event_body(n))
        n += 1
    await settle(readers, 10 * len(reading))
    for a in readers:
        a.times.clear()
    sent = {}
    interval = 1.0 / args.rate
    cpu = [cpu_seconds(proc.pid) for proc in procs]
    for _ in range(args.steady):
        started = time.time()
        sent[n] = started
        await publisher.post(event_body(n))
        n += 1
        await asyncio.sleep(max(0, interval - (time.time() - started)))
    delivered = await settle(readers, args.steady * len(reading))
    cpu = [cpu_seconds(proc.pid) - c for proc, c in zip(procs, cpu)]
    each = [sorted((t - sent[m]) * 1000 for m, t in a.times if m in sent) for a in readers]
    latencies = sorted(x for e in each for x in e)
    for client in waiting:
        client.transport.resume_reading()
    delivered += await settle(others, n * len(waiting)) - 10 * len(waiting)
    publisher.close()
    for client in clients:
        client.transport.close()
    await asyncio.sleep(1)
    return {"name": name, "p50": statistics.median(latencies), "p99": p99(latencies),
            "max": latencies[-1], "p99_each": [p99(e) for e in each],
            "cpu_ms": [c * 1000 / args.steady for c in cpu],
            "lost": args.steady * args.clients - delivered, "rss": rss}


def p99(values):
    return values[int(len(values) * 0.99) - 1]


def report(r, args):
    print("%-31s latency p50 %6.1f ms p99 %6.1f ms (each process: %s) max %6.1f ms | "
          "server CPU per broadcast %s ms | lost %d of %d | RSS %s MB"
          % (r["name"], r["p50"], r["p99"], " / ".join("%.1f" % v for v in r["p99_each"]),
             r["max"], " + ".join("%.1f" % v for v in r["cpu_ms"]), r["lost"],
             args.steady * args.clients, " + ".join("%.0f" % mb for mb in r["rss"])))


def main():
    gc.disable()       # the load's own pauses would show as server latency
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=10000)
    parser.add_argument("--rate", type=float, default=5, help="broadcasts/s")
    parser.add_argument("--steady", type=int, default=100, help="broadcasts measured")
    parser.add_argument("--readers", type=int, default=1000, help="clients that read "
                        "and time every frame as it comes (--clients: all of them)")
    args = parser.parse_args()
    limit = raise_fd_limit()
    if limit < args.clients + 100:
        raise SystemExit("open-files limit %d is too low for %d clients" % (limit, args.clients))
    try:
        postgres = pgserver.PostgresServer()
    except pgserver.Unavailable as exc:
        raise SystemExit(str(exc))
    tmp = tempfile.mkdtemp(prefix="branchline-bench-rts-")
    procs, creds = [], None
    try:
        database_url = postgres.create()
        data_dir = os.path.join(tmp, "cloud")
        ports = [free_port(), free_port()]

        procs.append(start_cloud(data_dir, database_url, ports[0], args.clients))
        with open(os.path.join(data_dir, "keys", "pusher.json")) as fh:
            creds = json.load(fh)
        alone = asyncio.run(measure("1 process, no Redis (baseline)", procs, ports[:1],
                                    creds, args))
        stop(procs)
        procs.clear()

        for port in ports:
            procs.append(start_cloud(data_dir, database_url, port, args.clients, REDIS_URL))
        scaled = asyncio.run(measure("2 processes + Redis", procs, ports, creds, args))

        print("realtime across cloud processes: %d clients subscribed to one channel, %d "
              "broadcasts at %g/s published on the first process"
              % (args.clients, args.steady, args.rate))
        report(alone, args)
        report(scaled, args)
        print("2 processes + Redis: p99 %.1f ms (target < 100 ms; 1 process alone %.1f ms)"
              % (scaled["p99"], alone["p99"]))
    finally:
        stop(procs)
        if creds:
            forget(REDIS_URL, creds["app_id"])
        postgres.drop_all()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
