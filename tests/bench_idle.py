"""Benchmark: what the demo's nodes use at rest, and an edge's memory after a shift.

    .venv/bin/python tests/bench_idle.py [--seconds 60] [--orders 200]

Starts the demo (``branchline-demo``: the cloud and the Downtown and Airport edges,
enrolled and syncing) in a fresh folder on free loopback ports, beside a bare Tornado
process that serves nothing (the baseline, same run), and waits until they settle.
Then, from /proc: each process's CPU over ``--seconds`` of nobody using it, and its
resident memory. Then a shift at the Downtown edge (``--orders`` orders of two items,
each paid in cash), and the edge's memory after it, once it has synced and rested.
Targets (DESIGN.md): under 1 % of a core at rest for every node; an edge under 60 MB
RSS after a shift. A script, not a test: pytest does not collect it.

The nodes are asked whether they are up as the demo asks (a 401 without a token),
not with the API document, which would build every model of the API in them.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench_orders import (BARE_SERVER, cpu_seconds, free_port, login, stop,  # noqa: E402
                          wait_ready)

from cloud.demo import READY_PATH  # noqa: E402

API = "http://127.0.0.1:%d/api/application-integration"
TARGET_MB = 60


def rss_mb(pid, field="VmRSS"):
    """A process's resident memory in MB: all of it (VmRSS), or its own (RssAnon: the
    heap, Python's objects) or the pages of its program and libraries (RssFile)."""
    with open("/proc/%d/status" % pid) as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def children_of(pid):
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as fh:
                    if int(fh.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except OSError:
                pass
    return found


def node_pids(demo_pid, ports):
    """{label: pid} of the demo's three servers, by the port each was told to use."""
    pids = {}
    for pid in children_of(demo_pid):
        with open("/proc/%d/cmdline" % pid, "rb") as fh:
            argv = fh.read().decode().split("\0")
        if "--port" in argv:
            port = int(argv[argv.index("--port") + 1])
            for label, wanted in ports.items():
                if port == wanted:
                    pids[label] = pid
    return pids


def wait_up(port, proc, timeout=180):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit("the demo exited with %s" % proc.returncode)
        try:
            urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, READY_PATH), timeout=1)
            return
        except urllib.error.HTTPError:
            return                  # an answer (401): it is up
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the node on port %d did not start" % port)


def call(port, method, path, body=None, token=None, base=API):
    request = urllib.request.Request(
        (base % port) + path, method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json",
                 **({"Authorization": "Bearer " + token} if token else {})})
    with urllib.request.urlopen(request, timeout=30) as resp:
        return json.load(resp)


def usage(pids, seconds):
    """{label: (% of a core over seconds, MB RSS at the end)}."""
    before = {label: cpu_seconds(pid) for label, pid in pids.items()}
    time.sleep(seconds)
    return {label: (100 * (cpu_seconds(pid) - before[label]) / seconds, rss_mb(pid))
            for label, pid in pids.items()}


def shift(port, orders):
    token = login(port, "waiter@demo.test")
    items = {i["item_name"]: i["id"] for i in call(port, "GET", "/pos/items", token=token)}
    simple = [items[name] for name in ("Garlic Bread", "Espresso", "Caesar Salad",
                                       "Craft IPA", "Grilled Salmon") if name in items]
    for n in range(orders):
        created = call(port, "POST", "/pos/orders", {
            "order_type": "pickup", "customer": {"name": "Guest %d" % n, "phone": "555%04d" % n},
            "items": [{"id": simple[n % len(simple)], "quantity": 1},
                      {"id": simple[(n + 3) % len(simple)], "quantity": 2}]}, token=token)
        call(port, "POST", "/pos/orders/%d/pay" % created["order"]["id"], {"method": "cash"},
             token=token)


def wait_synced(port, timeout=120):
    token = login(port, "manager@demo.test")
    deadline = time.time() + timeout
    while time.time() < deadline:
        if call(port, "GET", "/sync/status", token=token,
                base="http://127.0.0.1:%d").get("outbox_depth") == 0:
            return
        time.sleep(1)
    raise SystemExit("the edge did not finish syncing within %d s" % timeout)


def report(figures, targets):
    for label, (cpu, rss) in figures.items():
        target = targets.get(label, "")
        print("  %-22s %6.2f %% of a core   %6.1f MB RSS   %s" % (label, cpu, rss, target))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--settle", type=float, default=10.0,
                        help="seconds to let the nodes finish starting before measuring")
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="branchline-idle-")
    ports = {"cloud": free_port(), "downtown edge": free_port(), "airport edge": free_port()}
    bare_port = free_port()
    procs = []
    try:
        bare = subprocess.Popen([sys.executable, "-c", BARE_SERVER, str(bare_port)])
        procs.append(bare)
        demo = subprocess.Popen(
            [sys.executable, "-m", "cloud.demo", "--data-dir", tmp,
             "--cloud-port", str(ports["cloud"]), "--downtown-port",
             str(ports["downtown edge"]), "--airport-port", str(ports["airport edge"])],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(demo)
        wait_ready(bare_port, bare)
        for port in ports.values():
            wait_up(port, demo)
        pids = node_pids(demo.pid, ports)
        assert len(pids) == 3, pids
        pids["bare tornado (baseline)"] = bare.pid
        time.sleep(args.settle)

        print("at rest, over %.0f s (target: < 1 %% of a core each):" % args.seconds)
        idle = usage(pids, args.seconds)
        report(idle, {})

        downtown = ports["downtown edge"]
        started = time.time()
        shift(downtown, args.orders)
        took = time.time() - started
        wait_synced(downtown)
        print("\na shift of %d paid orders at the Downtown edge (%.1f s), synced to the cloud;"
              " then at rest over %.0f s (target: edge < 60 MB RSS):"
              % (args.orders, took, args.seconds / 2))
        after = usage(pids, args.seconds / 2)
        report(after, {"downtown edge": "(after the shift)"})
        edge, bare = after["downtown edge"][1], after["bare tornado (baseline)"][1]
        print("\nDowntown edge: %.1f MB RSS at rest, %.1f MB after the shift; bare Tornado "
              "%.1f MB (the edge: %.1f MB above it); target < %d MB after the shift: %s"
              % (idle["downtown edge"][1], edge, bare, edge - bare, TARGET_MB,
                 "met" if edge < TARGET_MB else "NOT met"))
        for label in ("downtown edge", "bare tornado (baseline)"):
            print("  %s: %.1f MB its own (heap, Python's objects), %.1f MB pages of Python "
                  "and its libraries" % (label, rss_mb(pids[label], "RssAnon"),
                                         rss_mb(pids[label], "RssFile")))
    finally:
        if procs[-1:] and procs[-1].poll() is None:
            procs[-1].send_signal(signal.SIGINT)     # the demo stops its nodes itself
        stop(procs)


if __name__ == "__main__":
    main()
