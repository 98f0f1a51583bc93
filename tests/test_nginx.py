"""The cloud behind a real nginx (deploy/nginx/branchline.conf): HTTPS, an edge's
long polls, the Pusher WebSocket and body limits through it, in front of two cloud
processes on PostgreSQL; and the login throttle counting the client nginx names
only when the cloud is told it is behind a proxy."""

import asyncio
import datetime
import ipaddress
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import time

import pytest
import tornado.httpclient
import tornado.websocket
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

import test_sync_chaos as chaos
from test_sync_chaos import API, Cluster, Till, free_port

SITE = os.path.join(chaos.ROOT, "deploy", "nginx", "branchline.conf")
PULL = "/sync/pull"


@pytest.fixture(scope="session")
def nginx_binary():
    """Debian's nginx, installed with apt-get when missing (CI runs as root)."""
    def found():
        return shutil.which("nginx") or next(
            (p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)
    if not found() and shutil.which("apt-get") and os.geteuid() == 0:
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        for steps in ([["apt-get", "install", "-y", "nginx"]],
                      [["apt-get", "update"], ["apt-get", "install", "-y", "nginx"]]):
            if all(subprocess.run(step, env=env, capture_output=True, timeout=900)
                   .returncode == 0 for step in steps):
                break
    if not found():
        pytest.skip("nginx is not installed and could not be installed here "
                    "(apt-get install -y nginx needs root and a package source)")
    return found()


def self_signed(directory):
    """A certificate for 127.0.0.1 and its key, as PEM files: (cert, key)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "branchline test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                 x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    paths = str(directory / "cert.pem"), str(directory / "key.pem")
    with open(paths[0], "wb") as fh:
        fh.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(paths[1], "wb") as fh:
        fh.write(key.private_bytes(serialization.Encoding.PEM,
                                   serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption()))
    return paths


def replace(text, old, new):
    assert old in text, "deploy/nginx/branchline.conf no longer has %r" % old
    return text.replace(old, new)


class Nginx:
    """nginx in the foreground over deploy/nginx/branchline.conf, with its ports,
    certificate and upstream servers swapped for the test's, and every path it
    writes under ``directory``."""

    def __init__(self, binary, directory, upstream_ports):
        self.binary, self.dir = binary, directory
        directory.mkdir()
        self.cert, self.key = self_signed(directory)
        self.port = free_port()
        site = open(SITE).read()
        site = re.sub(r"\n *listen \[::\]:\d+[^\n]*", "", site)
        site = replace(site, "listen 443 ssl", "listen 127.0.0.1:%d ssl" % self.port)
        site = replace(site, "listen 80;", "listen 127.0.0.1:%d;" % free_port())
        site = replace(site, "/etc/ssl/branchline/fullchain.pem", self.cert)
        site = replace(site, "/etc/ssl/branchline/privkey.pem", self.key)
        site = replace(site, "server 127.0.0.1:8800;", " ".join(
            "server 127.0.0.1:%d;" % port for port in upstream_ports))
        (directory / "branchline.conf").write_text(site)
        d = str(directory)
        (directory / "nginx.conf").write_text("\n".join([
            "daemon off;", "worker_processes 1;", "pid %s/nginx.pid;" % d,
            "error_log %s/error.log info;" % d,
            "user root;" if os.geteuid() == 0 else "",
            "events { worker_connections 1024; }",
            "http {",
            "  log_format timed '$request_uri $status $request_time';",
            "  access_log %s/access.log timed;" % d,
            *["  %s_temp_path %s/%s;" % (kind, d, kind)
              for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")],
            "  include %s/branchline.conf;" % d, "}", ""]))
        self.url = "https://127.0.0.1:%d" % self.port
        self.proc = None

    def command(self, *extra):
        return [self.binary, "-e", str(self.dir / "error.log"), "-p", str(self.dir),
                "-c", str(self.dir / "nginx.conf"), *extra]

    async def start(self):
        checked = subprocess.run(self.command("-t"), capture_output=True, text=True)
        assert checked.returncode == 0, checked.stderr
        self.proc = subprocess.Popen(self.command(), stdout=subprocess.DEVNULL,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while True:
            assert self.proc.poll() is None, self.log()
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                assert time.monotonic() < deadline, self.log()
                await asyncio.sleep(0.05)

    def log(self):
        return (self.dir / "error.log").read_text(errors="replace")[-3000:]

    def passed(self, path):
        """[(status, seconds)] of the requests to ``path`` nginx passed on."""
        text = (self.dir / "access.log").read_text()
        return [(int(status), float(took)) for status, took in
                re.findall(r"^%s(?:\?\S*)? (\d+) ([\d.]+)$" % re.escape(path), text, re.M)]

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


async def fetch(client, nginx, method, path, body=None, *, token=None, source=None, raw=None,
                headers=()):
    headers = dict(headers, **{"Content-Type": "application/json"})
    if token:
        headers["Authorization"] = "Bearer " + token
    data = raw if raw is not None else None if body is None else json.dumps(body).encode()
    answer = await client.fetch(nginx.url + path, method=method, body=data, headers=headers,
                                ca_certs=nginx.cert, network_interface=source,
                                raise_error=False, request_timeout=30)
    try:
        return answer.code, json.loads(answer.body)
    except ValueError:
        return answer.code, answer.body


@pytest.fixture
async def fronted(tmp_path, seeded, postgres_cloud_database, nginx_binary, monkeypatch):
    """Two cloud processes (--workers 2) on PostgreSQL behind nginx, and the
    Downtown edge syncing with the cloud through nginx over HTTPS."""
    cluster = Cluster(tmp_path, seeded, postgres_cloud_database,
                      cloud_args=("--workers", "2", "--behind-proxy", "true"))
    started = []

    async def front(cloud_port):
        nginx = Nginx(nginx_binary, tmp_path / "nginx", [cloud_port])
        started.append(await nginx.start())
        monkeypatch.setitem(chaos.ENV, "SSL_CERT_FILE", nginx.cert)   # the edge trusts it
        return nginx.url
    try:
        waiter = await cluster.start(front=front)
        nginx = started[0]
        yield cluster, nginx, waiter
    finally:
        await cluster.close()
        for nginx in started:
            nginx.stop()


@pytest.mark.slow
async def test_https_long_polls_and_websockets_through_nginx(fronted):
    cluster, nginx, waiter = fronted
    client = tornado.httpclient.AsyncHTTPClient(force_instance=True)
    try:
        # HTTPS: log in at the cloud through nginx, and the order list answers.
        code, login = await fetch(client, nginx, "POST", API + "/auth/login",
                                  {"email": "owner@demo.test", "password": chaos.PASSWORD})
        assert code == 200, login
        owner = login["data"]["access_token"]
        code, orders = await fetch(client, nginx, "GET", API + "/pos/orders", token=owner)
        assert code == 200, orders

        # The edge pushes its orders and pulls the cloud's changes through nginx.
        till = Till(cluster, waiter, seed=5)
        unpaid = [(await till.order(pay=False))["id"] for _ in range(2)]
        await till.order()
        await cluster.eventually(cluster.pushed, 30, "the edge's outbox drained")
        pushes = {status for status, _ in nginx.passed("/sync/push")}
        assert pushes == {200}, "the edge's pushes through nginx: %s" % pushes
        # Head office cancels an order at the cloud: a command the edge's waiting
        # long poll picks up at once, answered while the request waits.
        code, answer = await fetch(client, nginx, "POST",
                                   API + "/pos/orders/%d/status" % unpaid[0],
                                   {"status": "cancelled"}, token=owner)
        assert code == 200, answer

        # The Pusher WebSocket, upgraded by nginx; the settings name nginx's wss URL.
        code, settings = await fetch(client, nginx, "GET",
                                     API + "/pusher/broadcast-settings", token=owner)
        assert code == 200, settings
        data = settings["data"]
        assert (data["force_tls"], data["ws_port"]) == (True, nginx.port), data
        context = ssl.create_default_context(cafile=nginx.cert)
        socket_ = await tornado.websocket.websocket_connect(tornado.httpclient.HTTPRequest(
            "wss://127.0.0.1:%d/app/%s?protocol=7" % (nginx.port, data["pusher_key"]),
            ssl_options=context))
        try:
            hello = json.loads(await asyncio.wait_for(socket_.read_message(), 10))
            assert hello["event"] == "pusher:connection_established", hello
            await socket_.write_message(json.dumps({"event": "pusher:ping", "data": {}}))
            pong = json.loads(await asyncio.wait_for(socket_.read_message(), 10))
            assert pong["event"] == "pusher:pong", pong
        finally:
            socket_.close()

        # A body over the cloud's max_body_kb is refused by nginx, in JSON.
        code, refused = await fetch(client, nginx, "POST", API + "/auth/login",
                                    raw=b"{" + b" " * (1100 * 1024) + b"}")
        assert code == 413 and "too large" in refused["message"], refused

        # The login throttle counts the client nginx saw (127.0.0.2, 127.0.0.3).
        wrong = {"email": "waiter@demo.test", "password": "wrong-password"}
        for _ in range(5):
            code, _ = await fetch(client, nginx, "POST", API + "/auth/login", wrong,
                                  source="127.0.0.2")
            assert code == 422
        assert (await fetch(client, nginx, "POST", API + "/auth/login", wrong,
                            source="127.0.0.2"))[0] == 429
        assert (await fetch(client, nginx, "POST", API + "/auth/login", wrong,
                            source="127.0.0.3"))[0] == 422
        # A client naming another address itself is still the address nginx saw.
        assert (await fetch(client, nginx, "POST", API + "/auth/login", wrong,
                            source="127.0.0.2",
                            headers={"X-Forwarded-For": "198.51.100.1"}))[0] == 429

        # An idle edge's long poll is held by the cloud and passed on by nginx
        # whole (the edge asks for 20 s), never cut by a proxy timeout (a 504).
        deadline = time.monotonic() + 45
        while not any(status == 200 and took >= 15 for status, took in nginx.passed(PULL)):
            assert time.monotonic() < deadline, nginx.passed(PULL)
            await asyncio.sleep(1)
        assert all(status == 200 for status, _ in nginx.passed(PULL)), nginx.passed(PULL)
        assert cluster.statuses_at_the_edge(unpaid[:1]) == {"canceled"}
    finally:
        client.close()


@pytest.mark.parametrize("behind_proxy", [False, True])
async def test_the_login_throttle_trusts_forwarded_addresses_only_behind_a_proxy(
        start_node, behind_proxy):
    cloud = await start_node("cloud", behind_proxy=behind_proxy)
    wrong = {"email": "waiter@demo.test", "password": "wrong-password"}

    async def attempt(address):
        return (await cloud.fetch("POST", "/auth/login", wrong,
                                  headers={"X-Forwarded-For": address})).status
    assert [await attempt("203.0.113.7") for _ in range(5)] == [422] * 5
    assert await attempt("203.0.113.7") == 429
    # Another client, as the proxy names it: counted apart only when the cloud
    # trusts the proxy; otherwise every header-claimed address is one client.
    assert await attempt("198.51.100.9") == (422 if behind_proxy else 429)
