"""Several cloud processes over one PostgreSQL database (``--workers 2``), any of
them taking any request: ids never collide, an edge's pushes landing on either
are applied once and in order, long polls and waiting commands wake on commits
made by the other, and ``kill -9`` of one mid-stream loses and doubles nothing.
New connections are spread over the workers, each listening on its own socket."""

import asyncio
import collections
import os
import random
import signal
import socket
import threading
import time

import pytest

from protocol import models
from protocol.postgres_pool import open_postgres
from protocol.store import Store
from sync.startup import SCHEMA
from pushservice import WebPushService
from test_sync import eventually
from test_sync_chaos import API, Cluster, Http, NodeProcess, Till, free_port


def test_processes_over_one_database_never_mint_the_same_id(postgres):
    url = postgres.create()
    stores = [Store(open_postgres(url), node_id=1).open(SCHEMA) for _ in range(3)]
    made = []

    def mint(store, n):
        made.extend(store.call(lambda: [models.Language.create(
            code="%d-%d" % (n, i), name="L").id for i in range(700)]))
    try:
        threads = [threading.Thread(target=mint, args=(s, n)) for n, s in enumerate(stores)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for store in stores:
            store.close()
    assert len(made) == len(set(made)) == 2100
    assert all(i >> 40 == 1 for i in made)


@pytest.fixture
async def cluster(tmp_path, seeded, postgres_cloud_database):
    cluster = Cluster(tmp_path, seeded, postgres_cloud_database, cloud_args=("--workers", "2"))
    yield cluster
    await cluster.close()


def workers(proc):
    """The worker processes of a node started with ``--workers``."""
    with open("/proc/%d/task/%d/children" % (proc.pid, proc.pid)) as fh:
        return sorted(int(pid) for pid in fh.read().split())


def worker_of(local, port, pids):
    """Which of ``pids`` holds the server side of the connection to ``port`` from the
    local port ``local`` (read from /proc), or None."""
    inode = None
    with open("/proc/net/tcp") as fh:
        for line in fh.readlines()[1:]:
            fields = line.split()
            if (int(fields[1].split(":")[1], 16), int(fields[2].split(":")[1], 16)) == (
                    port, local):
                inode = fields[9]
    for pid in pids:
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                if os.readlink("/proc/%d/fd/%s" % (pid, fd)) == "socket:[%s]" % inode:
                    return pid
            except OSError:
                continue
    return None


@pytest.mark.slow
async def test_two_cloud_processes_with_one_killed_mid_stream(cluster):
    waiter = await cluster.start()
    assert len(workers(cluster.cloud.proc)) == 2
    till = Till(cluster, waiter, seed=16)
    # Unpaid orders head office cancels at the cloud: each cancel is a command the
    # edge pulls from whichever process, and its answer comes back through either.
    unpaid = [(await till.order(pay=False))["id"] for _ in range(6)]
    answered = []

    async def head_office_cancel(order_id, after):
        await asyncio.sleep(after)
        for _ in range(10):
            code, answer = await cluster.http.call(
                cluster.cloud.port, "POST", API + "/pos/orders/%d/status" % order_id,
                {"status": "cancelled"}, token=cluster.owner, key="cancel-%d" % order_id)
            if code != 599:
                break
            # its process was the one killed: head office sends it again, same key
            await asyncio.sleep(0.5)
        assert code in (200, 202), (code, answer)
        answered.append(code)

    async def kill_one_worker():
        await asyncio.sleep(4)
        victim = random.Random(16).choice(workers(cluster.cloud.proc))
        os.kill(victim, signal.SIGKILL)
        for _ in range(100):         # the first process starts another
            await asyncio.sleep(0.1)
            pids = workers(cluster.cloud.proc)
            if len(pids) == 2 and victim not in pids:
                return victim
        raise AssertionError("no worker took the killed one's place")

    await asyncio.gather(
        till.stream(400, pause=0.1), kill_one_worker(),
        *[head_office_cancel(order_id, 1 + n) for n, order_id in enumerate(unpaid)])
    # Most cancels were answered by the edge while their request waited (the
    # result came in on either process): not merely queued.
    assert answered.count(200) >= 4, answered
    await cluster.settle()
    await cluster.check(till.orders)
    assert cluster.statuses_at_the_edge(unpaid) == {"canceled"}


async def test_login_throttle_and_idempotency_hold_across_processes(
        start_node, demo, postgres_cloud_database):
    one, two = [await start_node("cloud", name=name, database_url=postgres_cloud_database)
                for name in ("cloud-one", "cloud-two")]
    # Five wrong passwords a minute per email and client, counted by both together.
    for server in (one, two, one, two, one):
        wrong = await server.fetch("POST", "/auth/login", {"email": "waiter@demo.test",
                                                           "password": "wrong-password"})
        assert wrong.status == 422, wrong
    for server in (two, one):
        throttled = await server.fetch("POST", "/auth/login", {"email": "waiter@demo.test",
                                                               "password": "demo12345"})
        assert throttled.status == 429 and int(throttled.headers["Retry-After"]) > 0
    # The same order sent to both at once under one Idempotency-Key: made once.
    tokens = [await server.login("manager@demo.test") for server in (one, two)]
    body = {"order_type": "pickup", "items": [
        {"id": demo["items"]["Downtown"]["Espresso"], "quantity": 2}]}
    answers = await asyncio.gather(*[
        server.fetch("POST", "/pos/orders", body, token=token,
                     headers={"Idempotency-Key": "one-espresso-order"})
        for server, token in ((one, tokens[0]), (two, tokens[1])) * 3])
    assert {a.status for a in answers} == {201}, answers
    assert len({a.body["order"]["id"] for a in answers}) == 1
    orders = one.node.store.call(lambda: models.Order.select().where(
        models.Order.branch == demo["branches"]["Downtown"]).count())
    assert orders == 1


async def test_a_cloud_process_recovers_when_its_connections_are_cut(
        start_node, demo, postgres, postgres_cloud_database):
    one, two = [await start_node("cloud", name=name, database_url=postgres_cloud_database)
                for name in ("cloud-one", "cloud-two")]
    rung = threading.Event()
    two.node.store.commit_listeners.append(rung.set)
    token = await one.login("manager@demo.test")
    # The server drops every connection to the database (a restart, a failover).
    with postgres.admin.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       "WHERE datname = %s AND pid <> pg_backend_pid()",
                       (postgres.name_of(postgres_cloud_database),))
    answers = [(await one.fetch("GET", "/pos/orders", token=token)).status for _ in range(3)]
    assert answers[-1] == 200 and set(answers) <= {200, 503}, answers
    # The other process hears of this one's commits again (its listener reconnected).
    await asyncio.sleep(1.5)
    rung.clear()
    body = {"order_type": "pickup", "items": [
        {"id": demo["items"]["Downtown"]["Espresso"], "quantity": 1}]}
    made = await one.fetch("POST", "/pos/orders", body, token=token)
    assert made.status == 201, made
    assert await asyncio.to_thread(rung.wait, 5)


async def test_a_logout_at_one_process_is_refused_at_the_other(
        cloud_processes):
    one, two = await cloud_processes()
    token = await one.login("waiter@demo.test")
    assert (await two.fetch("GET", "/auth/me", token=token)).status == 200
    assert (await one.fetch("POST", "/auth/logout", token=token)).status == 200

    async def refused():
        return (await two.fetch("GET", "/auth/me", token=token)).status == 401
    deadline = time.monotonic() + 3
    while not await refused():
        assert time.monotonic() < deadline, "the other process still takes the token"
        await asyncio.sleep(0.05)


async def test_of_two_cloud_processes_one_pushes_each_notification_once(
        tmp_path, seeded, postgres_cloud_database):
    web = await WebPushService().start()
    cluster = Cluster(tmp_path, seeded, postgres_cloud_database, cloud_args=(
        "--workers", "2", "--push-http-endpoints", "loopback"))
    try:
        await cluster.start()
        owner = cluster.owner
        code, answer = await cluster.http.call(
            cluster.cloud.port, "POST", API + "/pos/notifications/register-token",
            {"token": web.subscriber("owner-laptop").subscription(), "platform": "web",
             "device_id": "owner-laptop"}, token=owner)
        assert code == 200, answer
        for n in range(8):            # made at the edge, queued at the cloud as they arrive
            code, answer = await cluster.http.call(
                cluster.cloud.port, "POST", API + "/pos/notifications/test",
                {"title": "Check %d" % n, "body": "from head office"}, token=owner)
            assert code in (200, 202), answer
        deadline = time.monotonic() + 20
        while len(web.received) < 8 and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        await asyncio.sleep(2)        # a second sender would have sent its copies by now
        titles = sorted(p["title"] for p in web.payloads("owner-laptop"))
        assert titles == ["Check %d" % n for n in range(8)], titles
    finally:
        await cluster.close()
        web.close()



async def served_by(port, pids, count=60):
    """How many of ``count`` new connections each of ``pids`` took: opened at once, as
    the tills of every branch come back together after an outage, while every worker
    is held up (SIGSTOP, as a burst of work would hold them); one is free a moment
    before the others. Each connection is answered, then closed."""
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        held = await asyncio.gather(*[asyncio.open_connection("127.0.0.1", port)
                                      for _ in range(count)])
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)
            await asyncio.sleep(0.2)
    try:
        for _, writer in held:
            writer.write(b"GET %s/openapi.json HTTP/1.1\r\nHost: cloud\r\n\r\n"
                         % API.encode())
        statuses = await asyncio.wait_for(asyncio.gather(*[
            reader.readline() for reader, _ in held]), 30)
        assert {status.split()[1] for status in statuses} == {b"200"}, statuses
        return collections.Counter(worker_of(writer.get_extra_info("sockname")[1], port, pids)
                                   for _, writer in held)
    finally:
        for _, writer in held:
            writer.close()


def cloud_of_workers(data_dir, port, database_url):
    return NodeProcess("cloud", data_dir, port, "--database-url", database_url,
                       "--workers", "2")


def refused_at_start(cloud):
    """Start ``cloud`` on a port another program holds: it exits at once, saying why."""
    cloud.start()
    try:
        assert cloud.proc.wait(30) != 0
        assert "Address already in use" in cloud.log_tail()
    finally:
        if cloud.proc.poll() is None:     # it started after all: the port is shared
            cloud.proc.kill()
            cloud.proc.wait()


async def test_new_connections_are_spread_over_the_workers(tmp_path, postgres_cloud_database):
    port = free_port()
    cloud = cloud_of_workers(str(tmp_path / "cloud"), port, postgres_cloud_database)
    http = Http()

    def ready(count):
        with open(cloud.log_path) as fh:
            return fh.read().count("cloud ready") == count

    def replaced(victim):
        now = workers(cloud.proc)
        return len(now) == 2 and victim not in now and now
    cloud.start()
    try:
        await cloud.ready(http)
        await eventually(lambda: ready(2), timeout=30)
        pids = workers(cloud.proc)
        # Each worker listens on a socket of its own (SO_REUSEPORT) and the kernel
        # spreads new connections by hash; from one shared socket, the worker free
        # first took them all.
        taken = await served_by(port, pids)
        assert all(taken[pid] >= 12 for pid in pids), taken
        # A second cloud started on this port by mistake does not share it.
        refused_at_start(cloud_of_workers(str(tmp_path / "other"), port,
                                          postgres_cloud_database))
        # A worker killed with kill -9 is started again and takes its share.
        os.kill(pids[0], signal.SIGKILL)
        pids = await eventually(lambda: replaced(pids[0]), timeout=10)
        await eventually(lambda: ready(3), timeout=30)
        taken = await served_by(port, pids)
        assert all(taken[pid] >= 12 for pid in pids), taken
    finally:
        http.close()
        await cloud.stop()


def test_a_cloud_of_workers_does_not_start_on_a_port_taken(tmp_path, postgres_cloud_database):
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        refused_at_start(cloud_of_workers(str(tmp_path / "cloud"), other.getsockname()[1],
                                          postgres_cloud_database))
