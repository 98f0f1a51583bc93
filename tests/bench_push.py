"""Benchmark: pushes per second from one cloud process to a local Web Push service,
beside pywebpush called in a bare loop, same machine, same run.

    .venv/bin/python tests/bench_push.py [--devices 50] [--notifications 40] [--baseline 500]

Starts a local Web Push service (tests/pushservice.py, a process of its own: it checks
every push's VAPID signature and decrypts its aes128gcm body with the subscriber's key)
with ``--devices`` subscribers, and a cloud (``python -m cloud``, its own process, over a
freshly seeded SQLite file, ``--push-http-endpoints loopback``). The waiter registers every
subscriber as a device at the cloud, then ``--notifications`` test notifications are sent
as fast as the API takes them: devices × notifications pushes, each encrypted, signed,
POSTed, answered 201 and recorded (push_deliveries, push_log) by the cloud's sender.
Measured from the first notification's POST until the service has received them all.

Baseline: ``pywebpush.webpush()`` (requests, a fresh VAPID signature and encryption each
time, the way most servers call it) in a plain loop from this process, ``--baseline``
pushes to the same service. This is a script, not a test: pytest does not collect it.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_orders import ROOT, free_port, login, stop, wait_ready  # noqa: E402

API = "/api/application-integration"


def call(port, method, path, body=None, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers=headers)
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.load(resp)


def seed_cloud(data_dir):
    from cloud import demo_data
    from protocol import config
    from protocol.database import open_sqlite
    from protocol.node import data_paths
    from protocol.store import Store
    from sync.startup import SCHEMA
    settings = config.load("cloud", {"data_dir": data_dir}, environ={})
    store = Store(open_sqlite(data_paths(settings)["database"]), node_id=1).open(SCHEMA)
    try:
        store.call(demo_data.seed)
    finally:
        store.close()


def cpu_seconds(pid):
    """User + system CPU seconds a process has used so far (Linux /proc)."""
    with open("/proc/%d/stat" % pid) as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_for(port, count, timeout=600):
    deadline = time.time() + timeout
    while time.time() < deadline:
        stats = call(port, "GET", "/stats")
        if stats["received"] >= count:
            return stats
        time.sleep(0.05)
    raise SystemExit("only %d of %d pushes arrived" % (stats["received"], count))


def baseline(key_path, subscriptions, count):
    import py_vapid
    import pywebpush
    vapid = py_vapid.Vapid02()
    vapid.generate_keys()
    vapid.save_key(key_path)
    pem = key_path
    body = json.dumps({"title": "Bench", "body": "x" * 60, "notification_id": "0",
                       "type": "test", "data": {}})
    started = time.perf_counter()
    for n in range(count):
        sub = subscriptions[n % len(subscriptions)]
        pywebpush.webpush(sub, body.replace('"0"', '"%d"' % n), vapid_private_key=pem,
                          vapid_claims={"sub": "mailto:bench@branchline.invalid"}, ttl=600)
    return count / (time.perf_counter() - started)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=50)
    parser.add_argument("--notifications", type=int, default=40)
    parser.add_argument("--baseline", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--profile", metavar="FILE", help="run the cloud under cProfile "
                        "(its event loop) and write the profile to FILE")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="bench-push-")
    procs = []
    env = dict({k: v for k, v in os.environ.items() if not k.startswith("BRANCHLINE_")},
               PYTHONPATH=ROOT)
    try:
        service_port, cloud_port = free_port(), free_port()
        service = subprocess.Popen([sys.executable, os.path.join(ROOT, "tests",
                                                                 "pushservice.py"),
                                    str(service_port), str(args.devices)],
                                   stdout=subprocess.PIPE, env=env)
        procs.append(service)
        assert service.stdout.readline().startswith(b"push service ready")
        subscriptions = call(service_port, "GET", "/subscriptions")["subscriptions"]

        data_dir = os.path.join(tmp, "cloud")
        seed_cloud(data_dir)
        profile = ["-m", "cProfile", "-o", args.profile] if args.profile else []
        cloud = subprocess.Popen([sys.executable, *profile, "-m", "cloud",
                                  "--data-dir", data_dir,
                                  "--port", str(cloud_port), "--host", "127.0.0.1",
                                  "--log-level", "warning", "--push-http-endpoints",
                                  "loopback", "--push-concurrency", str(args.concurrency)],
                                 cwd=ROOT, env=env)
        procs.append(cloud)
        wait_ready(cloud_port, cloud)
        token = login(cloud_port, "waiter@demo.test")
        for n, sub in enumerate(subscriptions):
            call(cloud_port, "POST", API + "/pos/notifications/register-token",
                 {"token": sub, "platform": "web", "device_id": "bench-%d" % n}, token)
        total = args.devices * args.notifications
        cpu = {p.pid: cpu_seconds(p.pid) for p in (cloud, service)}
        started = time.time()
        for n in range(args.notifications):
            call(cloud_port, "POST", API + "/pos/notifications/test",
                 {"title": "Order %d is ready" % n, "body": "KOT #%d is ready for table 4." % n,
                  "data": {"order_id": n}}, token)
        stats = wait_for(service_port, total)
        elapsed = stats["last"] - started
        used = {p.pid: cpu_seconds(p.pid) - cpu[p.pid] for p in (cloud, service)}
        ours = total / elapsed
        print("cloud push sender: %d pushes (%d devices x %d notifications) in %.2f s: "
              "%.0f pushes/s (concurrency %d); %d distinct, %d rejected"
              % (total, args.devices, args.notifications, elapsed, ours, args.concurrency,
                 stats["distinct"], stats["rejected"]))
        print("  from the first push received to the last: %.0f pushes/s"
              % ((total - 1) / max(1e-9, stats["last"] - stats["first"])))
        print("  CPU: cloud %.2f s (%.1f ms a push), push service %.2f s (%.1f ms a push); "
              "load average %.1f" % (used[cloud.pid], 1000 * used[cloud.pid] / total,
                                     used[service.pid], 1000 * used[service.pid] / total,
                                     os.getloadavg()[0]))
        call(service_port, "DELETE", "/stats")
        base = baseline(os.path.join(tmp, "vapid.pem"), subscriptions, args.baseline)
        print("pywebpush.webpush() in a bare loop: %d pushes: %.0f pushes/s" % (
            args.baseline, base))
        print("ratio: %.2fx" % (ours / base))
    finally:
        stop(procs)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
