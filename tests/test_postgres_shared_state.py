"""What the cloud's processes over one PostgreSQL database must agree on at once,
whichever of them a request lands on: the rider-code limit counted by all of
them, an edge enrolled (or replaced) through one known to every other, and
revocations a process's listener missed while it was reconnecting caught up."""

import asyncio
import threading
import time

from sync import auth
from test_sync import enroll_box, new_code



async def test_rider_code_failures_count_across_processes(start_node, postgres_cloud_database):
    one, two = [await start_node("cloud", name=name, database_url=postgres_cloud_database)
                for name in ("cloud-one", "cloud-two")]
    # Five failures a minute per code and client, whichever process takes them.
    for server in (one, two, one, two, one):
        bad = await server.fetch("POST", "/partner/auth/login", {"unique_code": "WRONG12345"})
        assert bad.status == 401, bad
    for server in (two, one):
        throttled = await server.fetch("POST", "/partner/auth/login",
                                       {"unique_code": "WRONG12345"})
        assert throttled.status == 429 and int(throttled.headers["Retry-After"]) > 0, throttled
        header = await server.fetch("GET", "/partner/profile",
                                    headers={"X-PARTNER-CODE": "wrong12345"})
        assert header.status == 429, header
    # Another code is still tried.
    other = await two.fetch("POST", "/partner/auth/login", {"unique_code": "OTHER12345"})
    assert other.status == 401, other


async def until(check, seconds=3.0, message="not in time"):
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, message
        await asyncio.sleep(0.05)


async def test_a_logout_while_a_process_listener_reconnects_is_caught_up(
        cloud_processes, postgres, postgres_cloud_database):
    one, two = await cloud_processes()
    token = await one.login("waiter@demo.test")
    assert (await two.fetch("GET", "/auth/me", token=token)).status == 200
    # Two's listener loses its connection, and gets it back only after the logout
    # at one was committed (and announced to nobody listening for two).
    listener = two.node.store._commits
    away, back = threading.Event(), threading.Event()
    connect = listener._connect

    def reconnect_later():
        away.set()
        back.wait(10)
        return connect()
    listener._connect = reconnect_later
    with postgres.admin.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", (listener.backend_pid,))
    assert await asyncio.to_thread(away.wait, 5), "the listener did not notice the cut"
    assert (await one.fetch("POST", "/auth/logout", token=token)).status == 200
    back.set()

    async def refused():
        return (await two.fetch("GET", "/auth/me", token=token)).status == 401
    await until(refused, message="the other process still takes the token")


def signed_pull(edge):
    path = "/sync/pull?after=0"
    return dict(method="GET", path=path, prefix=False, headers=auth.sign(
        edge.node.keyring.private_key, edge.node.node_id, "GET", path, b"", now=time.time()))


async def test_an_edge_enrolled_or_replaced_at_one_process_is_known_to_the_other(
        start_node, tmp_path, demo, postgres_cloud_database):
    one, two = [await start_node("cloud", name=name, database_url=postgres_cloud_database)
                for name in ("cloud-one", "cloud-two")]
    downtown = demo["branches"]["Downtown"]
    await enroll_box(one, tmp_path, "box", new_code(one, downtown))
    box = await start_node("edge", name="box")
    # The new box's token and its sync requests work at once at the process that
    # did not enroll it.
    token = await box.login("waiter@demo.test")
    me = await two.fetch("GET", "/auth/me", token=token)
    assert me.status == 200, me
    pulled = await two.fetch(**signed_pull(box))
    assert pulled.status == 200, pulled
    # A replacement enrolled at one: the old box is refused by both, at once.
    await enroll_box(one, tmp_path, "new-box", new_code(one, downtown))
    for server in (one, two):
        async def refused():
            me = await server.fetch("GET", "/auth/me", token=token)
            pull = await server.fetch(**signed_pull(box))
            return me.status == 401 and pull.status == 401
        await until(refused, message="the replaced box is still taken")
