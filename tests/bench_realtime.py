"""Benchmark: realtime fan-out on one edge against a bare Tornado WebSocket handler, same run.

    .venv/bin/python tests/bench_realtime.py [--clients 2000] [--subscribers 1000]

Starts two servers as separate processes on free loopback ports: a real edge (over a
freshly seeded SQLite file) and the floor, a bare Tornado WebSocket handler that keeps a
set of subscribers and writes each broadcast to them with ``write_message``. This
process is the load: ``--clients`` lightweight WebSocket clients (raw asyncio, no
library) connected to each server in turn, ``--subscribers`` of them on the channel
``bench`` (the edge: Pusher protocol 7 at /app/{key}; the floor: the same messages). A
publisher posts the same event, JSON as a LAN service sends it, to each: the edge through
Pusher's signed HTTP API (POST /apps/{id}/events), the floor to a plain POST handler.

Measured for both: delivery latency p50/p99 at a steady ``--rate`` (from the publish
request to each subscriber's receipt), broadcasts per second sustained (``--burst``
broadcasts published back to back on two connections until every subscriber has all of
them), and the server's resident memory with every client connected. Targets (DESIGN.md):
p99 under 100 ms, at least half the floor's broadcast rate, edge memory under 150 MB.
Both server processes and this one raise their open-files limit. This is a script, not a
test: pytest does not collect it.
"""

import argparse
import asyncio
import base64
import gc
import hashlib
import hmac
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_orders import ROOT, free_port, seed_edge, stop, wait_ready  # noqa: E402

RAISE_FD_LIMIT = """
import resource
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
"""

EDGE_SERVER = RAISE_FD_LIMIT + """
import sys
from edge.server import main
main(sys.argv[1:])
"""

FLOOR_SERVER = RAISE_FD_LIMIT + r"""
import json, sys
import tornado.ioloop, tornado.web, tornado.websocket

subscribers = set()

class Socket(tornado.websocket.WebSocketHandler):
    def check_origin(self, origin):
        return True

    def open(self):
        self.set_nodelay(True)
        self.write_message('{"event":"pusher:connection_established","data":"{}"}')

    def on_message(self, text):
        message = json.loads(text)
        if message["event"] == "pusher:subscribe":
            subscribers.add(self)
            self.write_message(json.dumps({"event": "pusher_internal:subscription_succeeded",
                                           "channel": message["data"]["channel"], "data": "{}"}))

    def on_close(self):
        subscribers.discard(self)

class Broadcast(tornado.web.RequestHandler):
    def post(self):
        body = json.loads(self.request.body)
        message = json.dumps({"event": body["name"], "channel": body["channel"],
                              "data": body["data"]})
        for subscriber in list(subscribers):
            subscriber.write_message(message)
        self.finish("{}")

    def get(self):
        self.finish("{}")

app = tornado.web.Application([(r"/ws", Socket), (r"/broadcast", Broadcast),
                               (r"/api/application-integration/openapi.json", Broadcast)])
app.listen(int(sys.argv[1]), "127.0.0.1")
tornado.ioloop.IOLoop.current().start()
"""

N_FIELD = re.compile(rb'"n\\?": ?(\d+)')


def raise_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def rss_mb(pid):
    with open("/proc/%d/status" % pid) as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- The load: lightweight WebSocket clients --------------------------------------------

class Arrivals:
    """Receipt times of the bench events, by broadcast number."""

    def __init__(self):
        self.times = []          # (n, received at)
        self.subscribed = 0


class Client(asyncio.Protocol):
    """A WebSocket client in as little Python as will do: handshake, unmasked server
    frames in, masked text frames out."""

    def __init__(self, host, port, path, arrivals):
        self.request = ("GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                        "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                        "Sec-WebSocket-Version: 13\r\n\r\n"
                        % (path, host, port, base64.b64encode(os.urandom(16)).decode())).encode()
        self.arrivals = arrivals
        self.buffer = b""
        self.upgraded = asyncio.get_running_loop().create_future()
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport
        transport.write(self.request)

    def connection_lost(self, exc):
        if not self.upgraded.done():
            self.upgraded.set_exception(ConnectionError("closed during the handshake"))

    def data_received(self, data):
        buf = self.buffer + data if self.buffer else data
        if not self.upgraded.done():
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                self.buffer = buf
                return
            self.upgraded.set_result(True)
            buf = buf[end + 4:]
        pos, size, now = 0, len(buf), time.time()
        while size - pos >= 2:
            length, head = buf[pos + 1] & 0x7F, 2
            if length == 126:
                if size - pos < 4:
                    break
                length, head = int.from_bytes(buf[pos + 2:pos + 4], "big"), 4
            elif length == 127:
                if size - pos < 10:
                    break
                length, head = int.from_bytes(buf[pos + 2:pos + 10], "big"), 10
            if size - pos < head + length:
                break
            payload = buf[pos + head:pos + head + length]
            pos += head + length
            found = N_FIELD.search(payload)
            if found is not None:
                self.arrivals.times.append((int(found.group(1)), now))
            elif b"subscription_succeeded" in payload:
                self.arrivals.subscribed += 1
        self.buffer = buf[pos:]

    def send(self, text):
        payload = text.encode()
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i & 3] for i, b in enumerate(payload))
        length = len(payload)
        head = bytes([0x81, 0x80 | length]) if length < 126 else \
            bytes([0x81, 0xFE]) + length.to_bytes(2, "big")
        self.transport.write(head + mask + masked)


async def connect_all(port, path, count, arrivals, batch=200):
    loop = asyncio.get_running_loop()
    clients = []
    for start in range(0, count, batch):
        made = await asyncio.gather(*[
            loop.create_connection(lambda: Client("127.0.0.1", port, path, arrivals),
                                   "127.0.0.1", port)
            for _ in range(min(batch, count - start))])
        clients += [protocol for _, protocol in made]
        await asyncio.gather(*[c.upgraded for c in clients[start:]])
    return clients


# --- The publisher ----------------------------------------------------------------------

class Publisher:
    """A keep-alive HTTP/1.1 connection posting events; ``sign`` makes the query string."""

    def __init__(self, port, path, sign=None):
        self.port, self.path, self.sign = port, path, sign

    async def open(self):
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        return self

    async def post(self, body):
        query = "?" + self.sign(self.path, body) if self.sign else ""
        self.writer.write((
            "POST %s%s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
            "Content-Length: %d\r\n\r\n" % (self.path, query, self.port, len(body))).encode()
            + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
        await self.reader.readexactly(length)
        if status != 200:
            raise SystemExit("publishing answered %d" % status)

    def close(self):
        self.writer.close()


def pusher_signer(app_id, key, secret):
    def sign(path, body):
        query = {"auth_key": key, "auth_timestamp": str(int(time.time())),
                 "auth_version": "1.0", "body_md5": hashlib.md5(body).hexdigest()}
        text = "&".join("%s=%s" % kv for kv in sorted(query.items()))
        signature = hmac.new(secret.encode(), ("POST\n%s\n%s" % (path, text)).encode(),
                             hashlib.sha256).hexdigest()
        return text + "&auth_signature=" + signature
    return sign


def event_body(n):
    data = json.dumps({"n": n, "order_id": 1099511629000 + n, "status": "kot",
                       "note": "x" * 120})
    return json.dumps({"name": "bench", "channel": "bench", "data": data}).encode()


# --- One server -----------------------------------------------------------------------

async def measure(name, pid, port, ws_path, publish_path, sign, args):
    arrivals = Arrivals()
    rss_before = rss_mb(pid)
    clients = await connect_all(port, ws_path, args.clients, arrivals)
    for client in clients[:args.subscribers]:
        client.send(json.dumps({"event": "pusher:subscribe", "data": {"channel": "bench"}}))
    deadline = time.time() + 30
    while arrivals.subscribed < args.subscribers and time.time() < deadline:
        await asyncio.sleep(0.05)
    if arrivals.subscribed < args.subscribers:
        raise SystemExit("%s: only %d subscribed" % (name, arrivals.subscribed))
    await asyncio.sleep(0.5)
    rss_connected = rss_mb(pid)

    publishers = [await Publisher(port, publish_path, sign).open() for _ in range(2)]
    n = 0

    async def settle(count, timeout=30):
        """Wait until every subscriber has the phase's count broadcasts; deliveries."""
        deadline = time.time() + timeout
        while len(arrivals.times) < count * args.subscribers and time.time() < deadline:
            await asyncio.sleep(0.02)
        return len(arrivals.times)

    # Warm-up, then latency at a steady rate.
    for _ in range(20):
        await publishers[0].post(event_body(n))
        n += 1
    await settle(20)
    arrivals.times.clear()
    sent = {}
    interval = 1.0 / args.rate
    for _ in range(args.steady):
        started = time.time()
        sent[n] = started
        await publishers[0].post(event_body(n))
        n += 1
        await asyncio.sleep(max(0, interval - (time.time() - started)))
    delivered = await settle(args.steady)
    latencies = sorted((t - sent[m]) * 1000 for m, t in arrivals.times if m in sent)

    # Throughput: back to back on two connections until every subscriber has them all.
    arrivals.times.clear()
    first = n
    cpu_start = cpu_seconds(pid)
    started = time.time()
    numbers = iter(range(first, first + args.burst))

    async def pump(publisher):
        for m in numbers:
            await publisher.post(event_body(m))
    await asyncio.gather(*[pump(p) for p in publishers])
    burst_delivered = await settle(args.burst)
    last = max(t for m, t in arrivals.times) if arrivals.times else time.time()
    elapsed = last - started
    cpu = cpu_seconds(pid) - cpu_start

    for publisher in publishers:
        publisher.close()
    for client in clients:
        client.transport.close()
    await asyncio.sleep(1)
    return {
        "name": name, "rss_before": rss_before, "rss_connected": rss_connected,
        "p50": statistics.median(latencies), "p99": latencies[int(len(latencies) * 0.99) - 1],
        "max": latencies[-1],
        "steady_lost": args.steady * args.subscribers - delivered,
        "rate": args.burst / elapsed, "burst_lost": args.burst * args.subscribers - burst_delivered,
        "deliveries_per_s": burst_delivered / elapsed, "cpu_share": cpu / elapsed,
    }


def report(r, args):
    print("%-22s latency p50 %5.1f ms p99 %6.1f ms max %6.1f ms | %4.0f broadcasts/s "
          "(%6.0f deliveries/s, server CPU %3.0f%%) | RSS %5.1f MB idle, %5.1f MB with %d "
          "clients | lost %d, %d"
          % (r["name"], r["p50"], r["p99"], r["max"], r["rate"], r["deliveries_per_s"],
             r["cpu_share"] * 100, r["rss_before"], r["rss_connected"], args.clients,
             r["steady_lost"], r["burst_lost"]))


def main():
    gc.disable()       # the load's own pauses would show as server latency
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=2000)
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=20, help="broadcasts/s while "
                        "measuring latency")
    parser.add_argument("--steady", type=int, default=200, help="broadcasts at --rate")
    parser.add_argument("--burst", type=int, default=300, help="broadcasts back to back")
    args = parser.parse_args()
    limit = raise_fd_limit()
    if limit < args.clients + 100:
        raise SystemExit("open-files limit %d is too low for %d clients" % (limit, args.clients))

    tmp = tempfile.mkdtemp(prefix="branchline-bench-rt-")
    procs = []
    try:
        summary = seed_edge(tmp)
        edge_port, floor_port = free_port(), free_port()
        edge = subprocess.Popen(
            [sys.executable, "-c", EDGE_SERVER, "--data-dir", tmp, "--host", "127.0.0.1",
             "--port", str(edge_port), "--node-id", "2", "--log-level", "warning",
             "--max-connections", str(args.clients + 100), "--plain-http", "true",
             "--branch-id", str(summary["branches"]["Downtown"])], cwd=ROOT,
            stdout=subprocess.DEVNULL)
        procs.append(edge)
        floor = subprocess.Popen([sys.executable, "-c", FLOOR_SERVER, str(floor_port)])
        procs.append(floor)
        wait_ready(edge_port, edge)
        wait_ready(floor_port, floor)
        with open(os.path.join(tmp, "keys", "pusher.json")) as fh:
            creds = json.load(fh)

        floor_result = asyncio.run(measure(
            "bare tornado (floor)", floor.pid, floor_port, "/ws", "/broadcast", None, args))
        edge_result = asyncio.run(measure(
            "branchline edge", edge.pid, edge_port, "/app/%s?protocol=7" % creds["key"],
            "/apps/%s/events" % creds["app_id"],
            pusher_signer(creds["app_id"], creds["key"], creds["secret"]), args))

        print("realtime fan-out: %d clients connected, %d subscribed to one channel; "
              "latency at %g broadcasts/s, throughput over %d back-to-back broadcasts"
              % (args.clients, args.subscribers, args.rate, args.burst))
        report(floor_result, args)
        report(edge_result, args)
        print("edge / floor broadcast rate: %.2f (target >= 0.50); edge p99 %.1f ms (target "
              "< 100 ms); edge RSS %.1f MB with %d clients (target < 150 MB)"
              % (edge_result["rate"] / floor_result["rate"], edge_result["p99"],
                 edge_result["rss_connected"], args.clients))
    finally:
        stop(procs)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
