"""At rest, a node rests: an enrolled edge and its cloud run no store job, and no timer,
while nobody uses them (the sync loops wake only on a commit that wrote something, or
when the cloud's long poll answers), and the cloud's push sender sleeps once its queue is
empty (woken by commits, with a timer only for a pending retry)."""

import asyncio

from protocol import models
from test_push import push_settings, register, send_test, services  # noqa: F401
from test_sync import enrolled, eventually  # noqa: F401 - the fixture

D = "Downtown"


def jobs(*servers):
    return tuple(server.node.store.jobs_run for server in servers)


async def quiet(*servers, still=1.0, timeout=10.0):
    """Wait until no store job has run for ``still`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    seen, since = jobs(*servers), loop.time()
    while loop.time() - since < still:
        assert loop.time() < deadline, "the nodes never went quiet"
        await asyncio.sleep(0.1)
        now = jobs(*servers)
        if now != seen:
            seen, since = now, loop.time()


async def test_an_enrolled_edge_and_its_cloud_run_nothing_while_idle(enrolled, demo):
    cloud, edge = enrolled
    waiter = await edge.login("waiter@demo.test")
    created = await edge.fetch("POST", "/pos/orders", {
        "order_type": "pickup", "items": [{"id": demo["items"][D]["Garlic Bread"]}]},
        token=waiter)
    assert created.status == 201, created
    order_id = created.body["order"]["id"]
    await eventually(lambda: cloud.node.store.call(
        lambda: models.Order.get_or_none(models.Order.id == order_id)) is not None)
    # Reads wake nobody either.
    for _ in range(5):
        assert (await edge.fetch("GET", "/pos/orders", token=waiter)).status == 200
    await quiet(cloud, edge)
    before = jobs(cloud, edge)
    await asyncio.sleep(6)        # longer than any periodic recheck would be
    assert jobs(cloud, edge) == before
    assert edge.node.hub._sweeper is None and cloud.node.hub._sweeper is None


async def test_the_clouds_push_sender_rests_once_its_queue_is_empty(start_node, tmp_path,
                                                                     services):  # noqa: F811
    web, _ = services
    cloud = await start_node("cloud", **push_settings(services, tmp_path))
    waiter = await cloud.login("waiter@demo.test")
    phone = web.subscriber("phone")
    await register(cloud, waiter, "phone", phone.subscription(), "web")
    web.plan["phone"].append(429)             # one retry: its timer, then nothing
    await send_test(cloud, waiter)
    await eventually(lambda: web.payloads("phone"), timeout=10)
    await quiet(cloud)
    before = jobs(cloud)
    await asyncio.sleep(6)
    assert jobs(cloud) == before
    sender = cloud.sync
    assert sender._task is None and sender._timer is None and not sender._inflight
