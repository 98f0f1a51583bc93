"""Backup and restore, as an operator runs them (README "Backup and restore").

The edge: ``branchline-edge backup`` while the edge process takes orders, then
``restore`` into a wiped data directory; the edge starts again with its orders,
its order numbers, its enrollment and its unsent outbox. The cloud on
PostgreSQL: ``pg_dump`` of its database, ``pg_restore`` into a new one, a cloud
started on that shows a user the same orders.
"""

import asyncio
import os
import shutil
import sqlite3
import subprocess
import sys

import pytest

from protocol import models
from protocol.postgres_pool import open_postgres
from protocol.store import Store
from sync.startup import SCHEMA
from test_sync import eventually, enroll_box, new_code
from test_sync_chaos import API, ENV, PASSWORD, ROOT, Cluster, Http, NodeProcess, Till, free_port


def edge_command(*args):
    return subprocess.run([sys.executable, "-m", "edge", *args], cwd=ROOT, env=ENV,
                          capture_output=True, text=True, timeout=120)


def orders_in(database):
    """{order id: (order number, payment id or None)} in an edge's database."""
    db = sqlite3.connect("file:%s?mode=ro" % database, uri=True)
    try:
        return {r[0]: (r[1], r[2]) for r in db.execute(
            "SELECT o.id, o.order_number, p.id FROM orders o "
            "LEFT JOIN payments p ON p.order_id = o.id")}
    finally:
        db.close()


@pytest.fixture
async def cluster(tmp_path, seeded):
    cluster = Cluster(tmp_path, seeded)
    yield cluster
    await cluster.close()


async def test_an_edge_backed_up_while_it_takes_orders_restores_whole(cluster, tmp_path):
    waiter = await cluster.start()
    till = Till(cluster, waiter, seed=16)
    for _ in range(5):
        await till.order()
    await cluster.eventually(cluster.pushed, 20, "the first orders at the cloud")
    # The cloud is out of reach: what the edge takes now waits in its outbox, and
    # the backup is all there is of it.
    await cluster.cloud.stop()
    for _ in range(20):
        await till.order()
    answered_before = set(till.orders)
    archive = str(tmp_path / "box.tar.gz")
    backing_up = asyncio.ensure_future(asyncio.to_thread(
        edge_command, "backup", "--data-dir", cluster.edge.data_dir, "--to", archive))

    async def a_till():                 # orders, as long as the backup runs
        while not backing_up.done():
            await till.order()
    await asyncio.gather(*[a_till() for _ in range(3)])
    done = await backing_up
    assert done.returncode == 0, done.stderr
    assert len(till.orders) > len(answered_before) + 3     # taken while it ran
    for _ in range(5):
        await till.order()
    assert (os.stat(archive).st_mode & 0o777) == 0o600

    # Restoring under the running edge is refused.
    refused = edge_command("restore", "--data-dir", cluster.edge.data_dir, "--from", archive)
    assert refused.returncode != 0 and "stop it first" in refused.stderr

    # The box's disk is lost: nothing of its data directory is left.
    await cluster.edge.stop()
    shutil.rmtree(cluster.edge.data_dir)
    done = edge_command("restore", "--data-dir", cluster.edge.data_dir, "--from", archive)
    assert done.returncode == 0, done.stderr
    restored = orders_in(os.path.join(cluster.edge.data_dir, "edge.db"))
    assert answered_before <= set(restored) <= set(till.orders)
    assert len(restored) < len(till.orders)      # the backup is of a moment in the stream
    numbers = sorted(number for number, _ in restored.values())
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))   # no gap

    # The edge starts as the same enrolled box, and numbers on from its backup.
    cluster.edge.start()
    await cluster.edge.ready(cluster.http)
    waiter = await cluster.login(cluster.edge, "waiter@demo.test")
    till.token = waiter
    # (an order the backup caught before its payment is there unpaid)
    till.orders = {order_id: payment for order_id, (_, payment) in restored.items()}
    next_order = await till.order()
    assert next_order["order_number"] == numbers[-1] + 1
    # The cloud comes back: the restored outbox reaches it, and both sides agree.
    cluster.cloud.start()
    await cluster.cloud.ready(cluster.http)
    await cluster.settle()
    await cluster.check(till.orders)



async def cloud_on(database_url, data_dir, http):
    cloud = NodeProcess("cloud", data_dir, free_port(), "--database-url", database_url)
    cloud.start()
    await cloud.ready(http)
    return cloud


async def test_the_cloud_dumped_with_pg_dump_and_restored_shows_the_same_orders(
        postgres, postgres_cloud_database, seeded, tmp_path):
    demo = seeded[1]
    items = demo["items"]["Downtown"]
    http = Http()
    os.makedirs(tmp_path / "cloud")
    cloud = await cloud_on(postgres_cloud_database, str(tmp_path / "cloud" / "data"), http)
    try:
        waiter = (await http.write(cloud.port, "POST", "/auth/login", {
            "email": "waiter@demo.test", "password": PASSWORD}, token=None, key=None,
            expect=200))["data"]["access_token"]
        for n in range(3):
            await http.write(cloud.port, "POST", "/pos/orders", {
                "order_type": "pickup", "items": [{"id": items["Espresso"], "quantity": n + 1}]},
                token=waiter, key="order-%d" % n, expect=201)
        code, before = await http.call(cloud.port, "GET", API + "/pos/orders", token=waiter)
        assert code == 200
        await cloud.stop()

        dump = str(tmp_path / "cloud.dump")
        subprocess.run(["pg_dump", "--format=custom", "--file", dump, postgres_cloud_database],
                       check=True, capture_output=True, timeout=120)
        fresh = postgres.create()
        subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", "--dbname", fresh, dump],
                       check=True, capture_output=True, timeout=120)

        # The cloud's keys are part of its backup: its tokens and the edges' trust
        # rest on them.
        shutil.copytree(tmp_path / "cloud" / "data" / "keys",
                        tmp_path / "restored" / "data" / "keys")
        cloud = await cloud_on(fresh, str(tmp_path / "restored" / "data"), http)
        code, after = await http.call(cloud.port, "GET", API + "/pos/orders", token=waiter)
        assert code == 200 and after["data"] == before["data"]      # (the port differs)
        assert len(after["data"]) == 3
        order = await http.write(cloud.port, "POST", "/pos/orders", {
            "order_type": "pickup", "items": [{"id": items["Espresso"], "quantity": 1}]},
            token=waiter, key="order-after", expect=201)
        assert order["order"]["order_number"] == max(
            o["order_number"] for o in after["data"]) + 1
    finally:
        await cloud.stop()
        http.close()


async def test_a_box_restored_from_a_backup_older_than_the_cloud_loses_nothing_new(
        start_node, tmp_path, demo):
    cloud = await start_node("cloud")
    await enroll_box(cloud, tmp_path, "box", new_code(cloud, demo["branches"]["Downtown"]))
    edge = await start_node("edge", name="box", sync=True)
    waiter = await edge.login("waiter@demo.test")
    espresso = {"order_type": "pickup", "items": [
        {"id": demo["items"]["Downtown"]["Espresso"]}]}

    async def order():
        made = await edge.fetch("POST", "/pos/orders", espresso, token=waiter)
        assert made.status == 201, made
        return made.body["order"]["id"]

    def at_cloud():
        return cloud.node.store.call(lambda: {o.id for o in models.Order.select()})
    before_backup = [await order() for _ in range(2)]
    archive = str(tmp_path / "box.tar.gz")
    data_dir = edge.node.settings.data_dir
    done = await asyncio.to_thread(edge_command, "backup", "--data-dir", data_dir,
                                   "--to", archive)
    assert done.returncode == 0, done.stderr
    # The box goes on after its backup, and the cloud receives it all: its mark for
    # the box is then ahead of the backup's outbox.
    after_backup = [await order() for _ in range(3)]
    await eventually(lambda: set(after_backup) <= at_cloud())
    await edge.close()
    shutil.rmtree(data_dir)
    done = await asyncio.to_thread(edge_command, "restore", "--data-dir", data_dir,
                                   "--from", archive)
    assert done.returncode == 0, done.stderr
    edge = await start_node("edge", name="box", sync=True)
    waiter = await edge.login("waiter@demo.test")
    after_restore = [await order() for _ in range(3)]
    assert not set(after_restore) & set(after_backup)      # new ids, not the lost box's
    # Every order reaches the cloud, each once and as it was made.
    everything = set(before_backup + after_backup + after_restore)
    await eventually(lambda: at_cloud() >= everything)
    assert at_cloud() == everything
    restored = edge.node.store.call(lambda: {o.id: o.total for o in models.Order.select()})
    made_there = cloud.node.store.call(lambda: {o.id: o.total for o in models.Order.select()})
    assert {i: made_there[i] for i in restored} == restored


def mint(url, prefix, count=3):
    """Ids of ``count`` rows a cloud process on ``url`` makes (it starts, then stops)."""
    store = Store(open_postgres(url), node_id=1).open(SCHEMA)
    try:
        return store.call(lambda: [models.Language.create(code="%s-%d" % (prefix, n),
                                                          name="L").id
                                   for n in range(count)])
    finally:
        store.close()


def test_a_cloud_restored_from_an_older_dump_hands_out_no_id_it_used_after_it(
        postgres, postgres_cloud_database, tmp_path):
    mint(postgres_cloud_database, "before")
    dump = str(tmp_path / "cloud.dump")
    subprocess.run(["pg_dump", "--format=custom", "--file", dump, postgres_cloud_database],
                   check=True, capture_output=True, timeout=120)
    after_dump = mint(postgres_cloud_database, "after")    # edges may have pulled these
    fresh = postgres.create()
    subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", "--dbname", fresh, dump],
                   check=True, capture_output=True, timeout=120)
    done = subprocess.run([sys.executable, "-m", "cloud", "restored", "--database-url", fresh,
                           "--data-dir", str(tmp_path / "cloud")], cwd=ROOT, env=ENV,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    restored = mint(fresh, "restored")
    assert not set(restored) & set(after_dump)
