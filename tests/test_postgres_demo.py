"""``branchline-demo --database-url ... --cloud-workers 2 --redis-url ...``: the demo's
cloud on an empty PostgreSQL database, as two processes behind one port sharing
realtime through Redis, the edges on SQLite as always; an order taken at an edge
reaches the cloud, and the cloud's processes stay quiet at rest."""

import asyncio
import json
import os
import signal
import subprocess
import sys
import time

import pgserver
from test_realtime_scale import forget
from test_sync_chaos import API, ROOT, Http, free_port

PASSWORD = "demo12345"


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid):
    with open("/proc/%d/task/%d/children" % (pid, pid)) as fh:
        return [int(p) for p in fh.read().split()]


async def test_the_demo_with_its_cloud_on_postgresql_in_two_processes(tmp_path, postgres,
                                                                      redis_url):
    url = postgres.create()
    ports = [free_port() for _ in range(3)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRANCHLINE_")}
    demo = subprocess.Popen(
        [sys.executable, "-m", "cloud.demo", "--data-dir", str(tmp_path / "demo"),
         "--cloud-port", str(ports[0]), "--downtown-port", str(ports[1]),
         "--airport-port", str(ports[2]), "--database-url", url, "--cloud-workers", "2",
         "--redis-url", redis_url],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    http = Http()
    try:
        output = []
        while not any("Branchline demo is running" in line for line in output):
            line = await asyncio.to_thread(demo.stdout.readline)
            assert line, "".join(output)
            output.append(line)
        cloud_process = children(demo.pid)[0]
        assert len(children(cloud_process)) == 2          # the cloud's two workers

        async def login(port, email):
            return (await http.write(port, "POST", "/auth/login",
                                     {"email": email, "password": PASSWORD}, token=None,
                                     key=None, expect=200))["data"]["access_token"]
        waiter = await login(ports[1], "waiter@demo.test")
        code, items = await http.call(ports[1], "GET", API + "/pos/items", token=waiter)
        assert code == 200
        item = items[0]["id"]
        order = (await http.write(ports[1], "POST", "/pos/orders", {
            "order_type": "pickup", "items": [{"id": item, "quantity": 1}]},
            token=waiter, key="demo-order", expect=201))["order"]
        owner = await login(ports[0], "owner@demo.test")
        deadline = time.monotonic() + 20
        while True:           # the same order, read from either cloud process
            code, found = await http.call(ports[0], "GET", API + "/pos/orders/%d"
                                          % order["id"], token=owner)
            if code == 200:
                break
            assert time.monotonic() < deadline, (code, found)
            await asyncio.sleep(0.2)
        rows = pgserver.connect(url)
        try:
            assert rows.execute("SELECT total FROM orders WHERE id = ?",
                                (order["id"],))[0][0] == round(order["total"] * 100)
        finally:
            rows.close()
        code, said = await http.call(ports[0], "GET", API + "/pusher/diagnostics", token=owner)
        assert said["data"]["realtime_bus"] == "up", said
        # At rest: the cloud's workers sleep (no polling of the database nor of Redis).
        workers = children(cloud_process)
        before = [cpu_seconds(pid) for pid in workers]
        await asyncio.sleep(5)
        used = [cpu_seconds(pid) - b for pid, b in zip(workers, before)]
        assert all(u < 0.25 for u in used), used          # < 5 % of a core each
    finally:
        http.close()
        demo.send_signal(signal.SIGINT)
        await asyncio.to_thread(demo.wait, 30)
        with open(tmp_path / "demo" / "cloud" / "keys" / "pusher.json") as fh:
            forget(redis_url, json.load(fh)["app_id"])
    assert demo.returncode == 0
